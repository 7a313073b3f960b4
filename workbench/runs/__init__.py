"""What a user does that leaves a record, the same from every host (the app, the Lab
server extension, the notebook widget, ``wb.record``, the CLI): save and handle
strategies (:mod:`.strategies`), recorded backtests (:mod:`.backtests`) and the one
result document they store (:mod:`.document`).

Every function takes a store and the acting user's id; hosts map their signed-in user
to that id and call these, nothing more.
"""

from __future__ import annotations
