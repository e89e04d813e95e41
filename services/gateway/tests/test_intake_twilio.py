"""The provider's webhook signature, checked against the example Twilio publishes with its own
figures (https://www.twilio.com/docs/usage/webhooks/webhooks-security), so this is the provider's
algorithm and not merely one that agrees with itself."""
from services.gateway.intake import twilio

# Twilio's documented example: this token, URL and form give this signature (the page has shown
# it with two callers over the years; both are its figures).
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


def form(caller):
    return {"CallSid": "CA1234567890ABCDE", "Caller": caller, "Digits": "1234", "From": caller, "To": "+18005551212"}


FORM = form("+12349013030")
EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_signature_is_the_providers_own_by_its_published_example():
    assert twilio.signature(TOKEN, URL, FORM) == EXPECTED
    assert twilio.signature(TOKEN, URL, form("+14158675309")) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio.is_signed(TOKEN, URL, FORM, EXPECTED)


def test_any_change_to_the_url_a_field_or_the_token_breaks_it():
    assert not twilio.is_signed(TOKEN, URL.replace("foo=1", "foo=2"), FORM, EXPECTED)
    assert not twilio.is_signed(TOKEN, URL, dict(FORM, Digits="1235"), EXPECTED)
    assert not twilio.is_signed(TOKEN, URL, dict(FORM, Extra=""), EXPECTED)
    assert not twilio.is_signed("54321", URL, FORM, EXPECTED)
    assert not twilio.is_signed(TOKEN, URL, FORM, "")
    assert not twilio.is_signed("", URL, FORM, EXPECTED)
