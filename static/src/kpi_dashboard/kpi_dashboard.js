import { Component, markup, onWillStart, useState, useSubEnv } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useSetupAction } from "@web/search/action_hook";
import { Layout } from "@web/search/layout";
import { getDefaultConfig } from "@web/views/view";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

/**
 * The collection managers' dashboard: the last week's KPIs of the KPI history
 * (collection.kpi.snapshot) with their change over 4 and 12 weeks, and line
 * charts of the history, for the company's total or one salesperson, policy,
 * segment or phase.
 * The server computes everything (collection.kpi.dashboard), the charts too,
 * as SVG: the same drawing as the weekly report's.
 */
export class CollectionKpiDashboard extends Component {
    static template = "account_collections.KpiDashboard";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        useSubEnv({ config: { ...getDefaultConfig(), ...this.env.config } });
        useSetupAction();
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({
            companyId: false,
            dimension: "company",
            key: false,
            weeks: 52,
            data: null,
            loading: false,
        });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.loading = true;
        try {
            const data = await this.orm.call(
                "collection.kpi.snapshot",
                "get_collection_dashboard",
                [],
                {
                    company_id: this.state.companyId,
                    dimension: this.state.dimension,
                    key: this.state.key,
                    weeks: this.state.weeks,
                }
            );
            for (const chart of data.charts || []) {
                // drawn by the server from numbers, with every text escaped
                chart.svg = markup(chart.svg);
            }
            this.state.companyId = data.company.id;
            this.state.data = data;
        } finally {
            this.state.loading = false;
        }
    }

    /** Select the key ("" = the company's total) of one dimension. */
    onSelect(dimension, ev) {
        const value = ev.target.value;
        if (value === "") {
            this.state.dimension = "company";
            this.state.key = false;
        } else {
            // a record's id, or a selection's value
            this.state.dimension = dimension;
            this.state.key = /^\d+$/.test(value) ? parseInt(value) || false : value;
        }
        return this.load();
    }

    onCompany(ev) {
        this.state.companyId = parseInt(ev.target.value);
        this.state.dimension = "company";
        this.state.key = false;
        return this.load();
    }

    onWeeks(weeks) {
        this.state.weeks = weeks;
        return this.load();
    }

    openHistory() {
        return this.action.doAction(this.state.data.history_action);
    }

    async backfill() {
        const notification = await this.orm.call(
            "collection.kpi.snapshot",
            "action_collection_backfill",
            []
        );
        await this.load();
        return this.action.doAction(notification);
    }
}

registry.category("actions").add("account_collections.kpi_dashboard", CollectionKpiDashboard);
