"""``/v2``: one attribute per resource collection."""

from __future__ import annotations

from typing import Any

import pecan

from mistral.api import contract
from mistral.api.controllers.v2 import (
    action_executions,
    actions,
    code_sources,
    cron_triggers,
    dynamic_actions,
    engine_stats,
    environments,
    event_triggers,
    executions,
    info,
    tasks,
    work_items,
    workbooks,
    workflows,
)


class V2Controller:
    workbooks = workbooks.WorkbooksController()
    workflows = workflows.WorkflowsController()
    actions = actions.ActionsController()
    environments = environments.EnvironmentsController()
    executions = executions.ExecutionsController()
    tasks = tasks.TasksController()
    action_executions = action_executions.ActionExecutionsController()
    event_triggers = event_triggers.EventTriggersController()
    cron_triggers = cron_triggers.CronTriggersController()
    code_sources = code_sources.CodeSourcesController()
    dynamic_actions = dynamic_actions.DynamicActionsController()
    engine_stats = engine_stats.EngineStatsController()
    info = info.InfoController()
    work_items = work_items.WorkItemsController()

    @contract.expose("The v2 API's own link", returns=contract.FreeForm("The v2 link"))
    def index(self) -> dict[str, Any]:
        return {"uri": f"{pecan.request.application_url}/v2"}
