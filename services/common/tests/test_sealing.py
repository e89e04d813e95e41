from services.common.trust.sealing import Opener, Sealer, generate_keypair
from tests.support import run_secrets


def test_only_the_private_key_holder_can_open_a_sealed_contact():
    secrets = run_secrets()
    sealed = Sealer(secrets["NOTIFY_PUBLIC_KEY"]).seal("nima@example.org")
    assert "nima" not in sealed
    assert Opener(secrets["NOTIFY_PRIVATE_KEY"]).open(sealed) == "nima@example.org"
    other_private, _ = generate_keypair()
    assert Opener(other_private).open(sealed) is None
    assert Sealer(secrets["NOTIFY_PUBLIC_KEY"]).seal(None) is None
