import pytest

from hivla.registry import Registry, UnknownNameError


def test_register_and_get():
    reg = Registry("widget")

    @reg.register("round")
    class Round:
        pass

    assert reg.get("round") is Round
    assert "round" in reg and reg.names() == ["round"] and len(reg) == 1


def test_unknown_name_lists_available_and_closest():
    reg = Registry("widget")
    reg.add("round", 1)
    reg.add("square", 2)
    with pytest.raises(UnknownNameError) as err:
        reg.get("rond")
    text = str(err.value)
    assert "unknown widget 'rond'" in text
    assert "round, square" in text
    assert "Did you mean 'round'?" in text


def test_duplicate_registration_is_an_error():
    reg = Registry("widget")
    reg.add("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", 2)
