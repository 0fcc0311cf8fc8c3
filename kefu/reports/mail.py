"""The report mail's outbox purpose (``reports.monthly``) is registered by ``services``; importing it is enough."""

from . import services  # noqa: F401 - registers the purpose's render and mirror hooks
