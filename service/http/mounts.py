"""Sub-applications served under a path of the service's app."""

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send


class SubApplication(BaseRoute):
    """Every HTTP request whose path is ``prefix`` or under it, handed whole to ``app``:
    an application with routes, middleware and error handlers of its own, whose routes
    carry the prefix in their paths (so they are documented, counted and logged by their
    full path).

    Unlike Starlette's ``Mount``, the path is left as it is: no ``root_path`` is added and
    no prefix stripped."""

    def __init__(self, prefix: str, app: ASGIApp) -> None:
        self.prefix = prefix.rstrip("/")
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        under = path == self.prefix or path.startswith(self.prefix + "/")
        return (Match.FULL if scope["type"] == "http" and under else Match.NONE), {}

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
