"""The service layer: one function per question the CLI, the API, the web and the reports ask.

Each capability has one module (:mod:`~critmat.services.catalogue`,
:mod:`~critmat.services.statistics`, :mod:`~critmat.services.risk`,
:mod:`~critmat.services.stress`, :mod:`~critmat.services.assessments`). A service function takes
a :class:`~critmat.services.context.ServiceContext` (or an open store) and typed arguments and
returns typed results that carry their provenance and notes; it knows nothing of HTTP, HTML or
terminals. The one cache of finished answers, keyed by the current release ids, belongs to the
:class:`~critmat.services.context.ServiceContext`.

Domain packages (``sources``, ``store``, ``indicators``, ``risk``, ``scenarios``,
``reference``) never import this package; presentation packages (``commands``, ``api``,
``web``, ``reports``) import it and only present (see ``docs/architecture.md``).
"""
