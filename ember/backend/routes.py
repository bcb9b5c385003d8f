"""Named routes: an op that has several ways to one result names them, picks one itself, and lets a test force
any of them (conv and pool routes, ember/ops; BLAS's axpy, ember/backend/blas.py)."""

__all__ = ["Routes"]


class Routes:
    """The routes of one kind of op: `descriptions` maps each name to what the route does; `forced` is the
    name a test forced, or None (the op chooses)."""

    def __init__(self, kind, descriptions):
        self.kind, self.descriptions, self.forced = kind, descriptions, None

    def force(self, name):
        """`with routes.force(name):` every call takes that route (None: the op's own choice again); an
        unknown name raises ValueError at once."""
        if name is not None and name not in self.descriptions:
            raise ValueError(f"unknown {self.kind} route {name!r}; routes: {', '.join(self.descriptions)}")
        return _Forced(self, name)


class _Forced:
    def __init__(self, routes, name):
        self.routes, self.name = routes, name

    def __enter__(self):
        self.saved, self.routes.forced = self.routes.forced, self.name
        return self

    def __exit__(self, *exc):
        self.routes.forced = self.saved
