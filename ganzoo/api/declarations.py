"""What a component promises about itself with a class attribute: ``True``, or a string that
says why it cannot. The training step's capture (``capturable``) and a population's batched
step (``stackable``) read their promises the same way; a component that declares nothing
(any third-party one written before the promise existed) is taken at its silence."""

from __future__ import annotations

from typing import Optional


def refusal(component: object, attribute: str, undeclared: str) -> Optional[str]:
    """Why ``component`` (a class or an instance) does not make the promise ``attribute``:
    its own reason, ``undeclared`` when it says nothing, or None when it promises."""
    declared = getattr(component, attribute, None)
    if declared is True:
        return None
    if isinstance(declared, str) and declared:
        return declared
    return undeclared


def component_name(component: object) -> str:
    """A component's registered name (its class name when it has none), for messages."""
    cls = component if isinstance(component, type) else type(component)
    return getattr(cls, "name", "") or cls.__name__
