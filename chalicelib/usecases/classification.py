"""An incident's category (API.md "Classification"): the offline classifier, or Amazon Bedrock.

``VIGIL_CLASSIFIER=bedrock`` asks a foundation model first; whenever it gives no usable answer the
offline classifier, which always answers, decides.
"""

from __future__ import annotations

from chalicelib.settings import settings


def categorize(title: str, description: str = "", *, backend: str | None = None) -> str:
    """network, server, software, login or other; ``backend`` defaults to ``settings.classifier``."""
    # Imported when an incident is opened: the functions that can open one (the checker, the alert
    # consumers, the API) do so in few invocations, and their cold starts need not pay for it.
    from chalicelib.adapters.bedrock import ask_category
    from chalicelib.domain.classifier import classify

    if (backend or settings.classifier) == "bedrock":
        category = ask_category(title, description, model_id=settings.bedrock_model_id)
        if category is not None:
            return category
    return classify(title, description)
