import pytest

from services.common.trust.privacy import check_public_text, findings


@pytest.mark.parametrize("text", [
    "write to me at leyla.k@example.org",
    "email: omid (at) mail (dot) com",
    "call +98 912 345 6789",
    "شماره من ۰۹۱۲۳۴۵۶۷۸۹ است",  # Persian digits
    "My name is Narges Hosseini and I need help",
    "My brother Reza Tehrani has been arrested",
    "Меня зовут Алексей Смирнов",
    "اسم من مریم رضایی است",
    "find me on twitter @free_my_brother",
])
def test_identifying_details_are_caught(text):
    assert findings(text), text


@pytest.mark.parametrize("text", [
    "A lawyer is needed for an asylum claim in Germany.",
    "Our family needs a journalist to cover a political prisoner's case in Evin prison.",
    "وکیل برای پرونده پناهندگی در آلمان",
    "Нужен переводчик для обращения семьи заключённого",
    "Need help in 2024 with 3 documents",
    "Human Rights Watch reported on the case",
])
def test_ordinary_needs_pass(text):
    assert findings(text) == [], text


def test_warnings_name_the_field():
    warnings = check_public_text({"title": "Lawyer needed", "body": "call +98 912 345 6789"})
    assert set(warnings) == {"body"}
    assert "phone number" in warnings["body"]


@pytest.mark.parametrize("text", ["a." * 5000, "a@" * 5000, "x" * 10000 + "@", "1  " * 4000, "(at)" * 2500])
def test_adversarial_text_is_read_once_not_rescanned(text):
    """These took 0.5 s and more (quadratic backtracking) on the service's event loop; the
    patterns now start only where a run starts. Their verdicts stay what they were."""
    assert findings(text) in ([], ["It looks like it contains an email address."],
                              ["It looks like it contains a phone number."])
    assert findings("write to " + "a." * 3000 + "x@example.org") == [
        "It looks like it contains an email address."]
