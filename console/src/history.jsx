// 操作履歴問合せ: the operation history, filtered by user and by date.
// Master and admin users read everyone's; others their own (the daemon
// decides: the filter only narrows).

import React, { useEffect, useState } from "react";
import {
    ActionGroup, Button, Form, FormGroup, FormSelect, FormSelectOption, Grid, GridItem, StackItem, TextInput,
} from "@patternfly/react-core";
import { Caption, Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";

import { _, formatTime } from "./i18n.js";
import { Notice, Screen } from "./layout.jsx";
import { describeError } from "./errors.js";
import { isManager } from "./service.js";

const LIMITS = [100, 1000, 10000];

// "2024-05-01" as the start of that day in the browser's time zone, in µs.
function dayStartUsec(day) {
    if (!day)
        return 0;
    const [y, m, d] = day.split("-").map(Number);
    return new Date(y, m - 1, d).getTime() * 1000;
}

export function HistoryPage({ service, session, users, go }) {
    const manager = isManager(session);
    const [login, setLogin] = useState(manager ? "" : (session.login || ""));
    const [from, setFrom] = useState("");
    const [until, setUntil] = useState("");
    const [limit, setLimit] = useState("100");
    const [rows, setRows] = useState(null);
    const [notice, setNotice] = useState(null);

    async function search(event) {
        if (event)
            event.preventDefault();
        setNotice(null);
        try {
            const found = await service.history(login, dayStartUsec(from), Number(limit));
            // the API has no end: the day after `until` starts the cut
            const end = until ? dayStartUsec(until) + 86400 * 1e6 : Infinity;
            setRows(found.filter(r => r.time < end).reverse());
        } catch (err) {
            setRows([]);
            setNotice({ variant: "danger", text: describeError(err, { login }) });
        }
    }

    useEffect(() => {
        search(null);
        // the first search only; later ones are asked for with 検索
    }, []);

    return (
        <Screen crumbs={[_("Operation history")]} title={_("Operation history")}>
            <StackItem>
                <Form onSubmit={search} aria-label={_("Filter")} className="cr-filters">
                    <Grid hasGutter md={3}>
                        <GridItem>
                            <FormGroup label={_("User")} fieldId="cr-history-user">
                                <FormSelect id="cr-history-user" value={login} isDisabled={!manager}
                                            onChange={(_e, v) => setLogin(v)}>
                                    {manager && <FormSelectOption value="" label={_("Everyone")} />}
                                    {(manager ? users : users.filter(u => u.login === session.login)).map(u =>
                                        <FormSelectOption key={u.login} value={u.login} label={`${u.login} (${u.name})`} />)}
                                </FormSelect>
                            </FormGroup>
                        </GridItem>
                        <GridItem>
                            <FormGroup label={_("From")} fieldId="cr-history-from">
                                <TextInput id="cr-history-from" type="date" value={from} onChange={(_e, v) => setFrom(v)} />
                            </FormGroup>
                        </GridItem>
                        <GridItem>
                            <FormGroup label={_("Until")} fieldId="cr-history-until">
                                <TextInput id="cr-history-until" type="date" value={until}
                                           onChange={(_e, v) => setUntil(v)} />
                            </FormGroup>
                        </GridItem>
                        <GridItem>
                            <FormGroup label={_("Entries")} fieldId="cr-history-limit">
                                <FormSelect id="cr-history-limit" value={limit} onChange={(_e, v) => setLimit(v)}>
                                    {LIMITS.map(n => <FormSelectOption key={n} value={String(n)} label={String(n)} />)}
                                </FormSelect>
                            </FormGroup>
                        </GridItem>
                    </Grid>
                    <ActionGroup>
                        <Button variant="primary" type="submit">{_("Search")}</Button>
                        <Button variant="secondary" onClick={() => go("top")}>{_("Back")}</Button>
                    </ActionGroup>
                </Form>
            </StackItem>
            <Notice notice={notice} />
            {rows &&
                <StackItem>
                    <Table aria-label={_("Operation history")} variant="compact" className="cr-history-table">
                        <Caption>{_("Newest first")}</Caption>
                        <Thead>
                            <Tr>
                                <Th>{_("Time")}</Th>
                                <Th>{_("Operator")}</Th>
                                <Th>{_("Operation")}</Th>
                                <Th>{_("Target")}</Th>
                                <Th>{_("Result")}</Th>
                            </Tr>
                        </Thead>
                        <Tbody>
                            {rows.map((r, i) =>
                                <Tr key={i}>
                                    <Td dataLabel={_("Time")}>{formatTime(r.time)}</Td>
                                    <Td dataLabel={_("Operator")}>{r.actor}</Td>
                                    <Td dataLabel={_("Operation")}>{r.action}</Td>
                                    <Td dataLabel={_("Target")}>{r.target}</Td>
                                    <Td dataLabel={_("Result")}>{r.result}</Td>
                                </Tr>)}
                        </Tbody>
                    </Table>
                    {rows.length === 0 && <p>{_("No entries.")}</p>}
                </StackItem>}
        </Screen>
    );
}
