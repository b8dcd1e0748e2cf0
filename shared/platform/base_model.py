"""The base of the app's pydantic models: validators and serializers are built on first use,
not when the module is imported (pydantic's `defer_build`).

Why: the Functions host imports the whole app to index it, but a request needs only its own
models. Building all of them at import took 45–85 ms of the app's cold start, over the
250 ms budget on a slow day (bench/README.md); a first request now builds the few it uses.
"""

from pydantic import BaseModel, ConfigDict


class AppModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
