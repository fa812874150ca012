"""The route class of the divergence routes: JSON bodies read into numpy arrays, and Arrow
bodies, for the routes that take batches."""

from pydantic import BaseModel

from service.divergences.codecs.arrow import ARROW_STREAM, read_arrow
from service.divergences.codecs.json_arrays import read_arrays
from service.web.json_body import Body, BodyReader, JSONReader, ModelBodyRoute, options_from_query


def _from_arrow(model: type[BaseModel], body: Body, query: dict[str, str]) -> BaseModel:
    """The route's body model from an Arrow stream (p, q) and the query's options."""
    p, q = read_arrow(body)
    checked = options_from_query(model, query, p=[[1.0]], q=[1.0])
    return checked.model_copy(update={"p": p, "q": q})


class ArrayBodyRoute(ModelBodyRoute):
    """A route that lists ``application/vnd.apache.arrow.stream`` among its request body's
    content types in ``openapi_extra`` also takes Arrow bodies (:mod:`.arrow`), read into
    the same model with numpy arrays in place of the lists; its JSON bodies are read into
    numpy arrays too, where :mod:`.json_arrays` can. Other routes read bodies as
    :class:`ModelBodyRoute` does."""

    def _takes_arrow(self) -> bool:
        content = (self.openapi_extra or {}).get("requestBody", {}).get("content", {})
        return ARROW_STREAM in content

    def readers(self) -> dict[str, BodyReader]:
        return {ARROW_STREAM: _from_arrow} if self._takes_arrow() else {}

    def json_reader(self) -> JSONReader | None:
        return read_arrays if self._takes_arrow() else None
