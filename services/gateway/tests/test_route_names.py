"""The gateway is one class made of route mixins: two handlers with one name would silently leave
one route out (the later mixin's method wins, and its path answers 405 for the other's method)."""
import collections

from services.gateway.service import GatewayService


def test_no_two_mixins_define_a_handler_with_the_same_name():
    owners = collections.defaultdict(list)
    for klass in GatewayService.__mro__:
        for name, value in vars(klass).items():
            if callable(value) and not name.startswith("__"):
                owners[name].append(klass.__name__)
    assert {name: classes for name, classes in owners.items() if len(classes) > 1} == {}
