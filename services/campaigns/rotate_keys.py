"""Re-seal everything campaigns keeps sealed at rest with the current (first) CAMPAIGN_TEXT_KEYS key:
what a campaign says about the prisoner and its timeline, each letter and its translation, the
family's wall posts.

    CAMPAIGN_TEXT_KEYS="<new>,<old>" python -m services.campaigns.rotate_keys

(services/common/ops/rotate_keys.py; docs/security.md, "Rotating".)
"""
import sys

from services.common.ops import rotate_keys

from .storage import CAMPAIGNS, LETTERS, WALL

FIELDS = ((CAMPAIGNS, "prisoner_sealed"), (CAMPAIGNS, "timeline_sealed"), (LETTERS, "text_sealed"),
          (LETTERS, "translation_sealed"), (WALL, "text_sealed"))


def rotate(db, keys):
    return rotate_keys.rotate(db, FIELDS, keys, "CAMPAIGN_TEXT_KEYS")


if __name__ == "__main__":
    sys.exit(rotate_keys.main("campaigns", "CAMPAIGN_TEXT_KEYS", FIELDS))
