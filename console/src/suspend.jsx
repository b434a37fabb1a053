// 利用者停止・解除: suspend a user's service, or resume it, each confirmed
// with the acting administrator's confirmation password.

import React, { useState } from "react";
import { Button, Form, Modal, StackItem } from "@patternfly/react-core";
import { Caption, Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";

import { _, format, roleLabel } from "./i18n.js";
import { Notice, Screen } from "./layout.jsx";
import { describeError, errorKind, triesLeft } from "./errors.js";
import { PasswordField } from "./password-field.jsx";

function ConfirmDialog({ action, onConfirm, onCancel }) {
    const [password, setPassword] = useState("");
    const [missing, setMissing] = useState(false);
    const title = action.suspend ? _("Suspend user") : _("Resume user");

    function submit(event) {
        event.preventDefault();
        if (password === "") {
            setMissing(true);
            return;
        }
        const given = password;
        setPassword("");
        onConfirm(given);
    }

    return (
        <Modal variant="small" isOpen title={title} onClose={onCancel}
               actions={[
                   <Button key="ok" variant="danger" type="submit" form="cr-suspend-form">{_("Execute")}</Button>,
                   <Button key="cancel" variant="link" onClick={onCancel}>{_("Cancel")}</Button>,
               ]}>
            <Form id="cr-suspend-form" onSubmit={submit}>
                <p>
                    {format(action.suspend ? _("Suspend the service of {login} ({name})?")
                                           : _("Resume the service of {login} ({name})?"),
                            { login: action.user.login, name: action.user.name })}
                </p>
                <PasswordField id="cr-suspend-password" label={_("Confirmation password")} value={password}
                               isRequired missing={missing} autoFocus
                               onChange={v => { setPassword(v); setMissing(false) }} />
            </Form>
        </Modal>
    );
}

export function SuspendUsers({ service, session, users, go, reload }) {
    const [action, setAction] = useState(null);
    const [notice, setNotice] = useState(null);

    async function confirm(password) {
        const { user, suspend } = action;
        setAction(null);
        try {
            await (suspend ? service.suspend(user.login, password) : service.resume(user.login, password));
            setNotice({
                variant: "success",
                text: format(suspend ? _("The service of {login} was suspended.") : _("The service of {login} was resumed."),
                             { login: user.login }),
            });
            reload();
        } catch (err) {
            let left = null;
            if (errorKind(err) === "AuthenticationFailed") {
                try {
                    left = triesLeft(await service.history(session.login, 0, 100), session.login);
                } catch (e) {
                    left = null;
                }
            }
            setNotice({ variant: "danger", text: describeError(err, { login: user.login, triesLeft: left }) });
        }
    }

    return (
        <Screen crumbs={[_("User management"), _("Suspend and resume users")]} title={_("Suspend and resume users")}>
            <Notice notice={notice} />
            <StackItem>
                <Table aria-label={_("Users")} variant="compact">
                    <Caption>{_("Users")}</Caption>
                    <Thead>
                        <Tr>
                            <Th>{_("Login ID")}</Th>
                            <Th>{_("User name")}</Th>
                            <Th>{_("User role")}</Th>
                            <Th>{_("Service")}</Th>
                            <Th>{_("Actions")}</Th>
                        </Tr>
                    </Thead>
                    <Tbody>
                        {users.map(u =>
                            <Tr key={u.login} data-login={u.login}>
                                <Td dataLabel={_("Login ID")}>{u.login}</Td>
                                <Td dataLabel={_("User name")}>{u.name}</Td>
                                <Td dataLabel={_("User role")}>{roleLabel(u.role)}</Td>
                                <Td dataLabel={_("Service")}>{u.suspended ? _("Suspended") : _("Active")}</Td>
                                <Td dataLabel={_("Actions")}>
                                    {u.login !== session.login &&
                                        <Button variant="secondary" size="sm"
                                                aria-label={format(u.suspended ? _("Resume {login}") : _("Suspend {login}"),
                                                                   { login: u.login })}
                                                onClick={() => setAction({ user: u, suspend: !u.suspended })}>
                                            {u.suspended ? _("Resume") : _("Suspend")}
                                        </Button>}
                                </Td>
                            </Tr>)}
                    </Tbody>
                </Table>
            </StackItem>
            <StackItem>
                <Button variant="secondary" onClick={() => go("menu")}>{_("Back")}</Button>
            </StackItem>
            {action && <ConfirmDialog action={action} onConfirm={confirm} onCancel={() => setAction(null)} />}
        </Screen>
    );
}
