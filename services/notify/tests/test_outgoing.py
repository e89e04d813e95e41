"""While an email or webhook delivery that went out is being recorded as sent (through a database
outage), this process's timers leave it alone, whatever its lease says."""
from services.notify import outgoing


def test_an_item_being_recorded_is_not_taken_up_again_by_the_timers():
    seen_during = []

    def write():
        seen_during.append(("e-1" in outgoing.RECORDING))
        # The timers, meanwhile: neither touches the database (None would fail) nor sends.
        out = outgoing.Outgoing(None, {}, None, None, None, None)
        assert out.send_email("e-1", None) is None
        assert out.deliver("e-1", None) is None
        assert out.send_text("e-1", None) is None

    outgoing._record_sent(["e-1"], write, "email e-1 sent")
    assert seen_during == [True] and "e-1" not in outgoing.RECORDING


def test_an_item_is_forgotten_even_if_recording_fails():
    def write():
        raise KeyError("a bug")

    try:
        outgoing._record_sent(["e-2"], write, "email e-2 sent")
    except KeyError:
        pass
    assert "e-2" not in outgoing.RECORDING
