"""API keys and roles: who may call which part of the service (no web framework here).

* :mod:`.roles` - the four roles and the scopes each one grants;
* :mod:`.keys` - issuing, listing, revoking and checking API keys, stored hashed in the graph
  store's metadata so both backends work;
* :mod:`.errors` - 401/403/404 errors as :class:`~needgraph.errors.NeedgraphError` subclasses.
"""
