def capabilities(request) -> dict:
    """`caps` in every template: the signed-in user's capabilities, for navigation by role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"caps": frozenset()}
    return {"caps": frozenset(str(c) for c in user.capabilities)}
