"""When the public's counts change: on a fixed schedule, never when someone signs. Plain rules.

An observer who watches a count (and can set it one below a rounding step with signatures of
their own) learns who signed if a new number appears right after a signature: they line the
moment up with the national network's logs. So the counts the public sees are copied from the
exact ones only at the start of each period of CAMPAIGN_COUNTS_EVERY_S seconds, counted from the
epoch (the same instants for every campaign and every replica), whatever changed: a new number
says only that someone signed during the previous period.
"""


def period(now, every_s):
    """The number of the period `now` falls in."""
    return int(now.timestamp() // every_s)


def due(last_published, now, every_s):
    """Whether the counts are to be published now: a new period has begun since the last."""
    return last_published is None or period(now, every_s) > last_published
