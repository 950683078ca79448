"""A job function that fails quoting its argument, as a parser choking on a message would."""


def crash_with(text: str) -> None:
    raise ValueError(f"could not read {text!r}")
