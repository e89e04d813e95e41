"""What a person writes by SMS or email, read as a command in each of the five page languages;
anything unclear is help in the language it was written in, never a guess."""
import pytest

from services.gateway.intake import commands as c


@pytest.mark.parametrize("message, expected", [
    ("HELP", c.Command(c.HELP, "en", None, None)),
    ("  help  ", c.Command(c.HELP, "en", None, None)),
    ("", c.Command(c.HELP, "en", None, None)),
    ("راهنما", c.Command(c.HELP, "fa", None, None)),
    ("مساعدة", c.Command(c.HELP, "ar", None, None)),
    ("ПОМОЩЬ", c.Command(c.HELP, "ru", None, None)),
    ("帮助", c.Command(c.HELP, "zh", None, None)),
    ("NEED 2 A lawyer for my brother's appeal", c.Command(c.NEED, "en", None, ("legal", "A lawyer for my brother's appeal"))),
    ("need legal A lawyer", c.Command(c.NEED, "en", None, ("legal", "A lawyer"))),
    ("نیاز ۲ وکیل برای دادگاه", c.Command(c.NEED, "fa", None, ("legal", "وکیل برای دادگاه"))),
    ("需要 3 翻译一封信", c.Command(c.NEED, "zh", None, ("translation", "翻译一封信"))),
    ("OFFERS", c.Command(c.OFFERS, "en", None, None)),
    ("offers 2", c.Command(c.OFFERS, "en", 2, None)),
    ("CONFIRM 1", c.Command(c.CONFIRM, "en", 1, None)),
    ("تایید ۱", c.Command(c.CONFIRM, "fa", 1, None)),
    ("تأكيد ١", c.Command(c.CONFIRM, "ar", 1, None)),
    ("yes #3", c.Command(c.YES, "en", 3, None)),
    ("ДА 1", c.Command(c.YES, "ru", 1, None)),
    ("no 1", c.Command(c.NO, "en", 1, None)),
    ("SAY Thank you, see you Tuesday", c.Command(c.SAY, "en", None, "Thank you, see you Tuesday")),
    ("say 2 hello", c.Command(c.SAY, "en", 2, "hello")),
    ("read", c.Command(c.READ, "en", None, None)),
    ("OK", c.Command(c.CHECK_IN, "en", None, None)),
    ("link 7k3 9qa", c.Command(c.LINK, "en", None, "7K39QA")),
    ("STOP", c.Command(c.STOP, "en", None, None)),
    ("停止", c.Command(c.STOP, "zh", None, None)),
])
def test_each_command_is_read_in_each_language(message, expected):
    assert c.parse(message) == expected


@pytest.mark.parametrize("message, lang, unclear", [
    ("hello there", "en", "unknown"),
    ("سلام", "ar", "unknown"),           # no letter only Persian writes: help in Arabic
    ("سلام خوبی؟", "fa", "unknown"),     # ی is Persian's
    ("CONFIRM", "en", c.CONFIRM),        # which helper? never a guess
    ("yes", "en", c.YES),
    ("NEED a lawyer", "en", c.NEED),     # no skill: which one is not guessed from the words
    ("NEED 99 a lawyer", "en", c.NEED),
    ("NEED 2", "en", c.NEED),            # no text
    ("SAY", "en", c.SAY),
    ("LINK", "en", c.LINK),
    ("link hello world!", "en", c.LINK),
])
def test_anything_unclear_is_help_never_a_guess(message, lang, unclear):
    command = c.parse(message)
    assert (command.name, command.lang, command.text) == (c.HELP, lang, unclear)


def test_the_language_of_help_follows_the_script():
    assert c.language_of("این پیام") == "fa" and c.language_of("هذه رسالة") == "ar"
    assert c.language_of("это сообщение") == "ru" and c.language_of("这是消息") == "zh"
    assert c.language_of("this message") == "en"
