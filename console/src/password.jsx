// パスワード変更: one's own confirmation password; a master or admin user
// also sets another user's (confirmed with their own).  The login password
// is Cockpit's business (its Accounts page), not this service's.

import React, { useState } from "react";
import {
    ActionGroup, Button, Form, FormGroup, FormSelect, FormSelectOption, StackItem, Text, TextContent, Title,
} from "@patternfly/react-core";

import { _, format } from "./i18n.js";
import { Notice, Screen } from "./layout.jsx";
import { describeError, errorKind, triesLeft } from "./errors.js";
import { PasswordField } from "./password-field.jsx";
import { isManager } from "./service.js";

function useFields(names) {
    const empty = Object.fromEntries(names.map(n => [n, ""]));
    const [fields, setFields] = useState(empty);
    const set = name => value => setFields(f => ({ ...f, [name]: value }));
    return [fields, set, () => setFields(empty)];
}

function OwnPassword({ service, session, onNotice }) {
    const [f, set, clear] = useFields(["old", "new1", "new2"]);

    async function submit(event) {
        event.preventDefault();
        if (f.new1 !== f.new2) {
            onNotice({ variant: "danger", text: _("The new passwords do not match.") });
            return;
        }
        const call = service.changePassword(f.old, f.new1);
        clear();
        try {
            await call;
            onNotice({ variant: "success", text: _("Your confirmation password was changed.") });
        } catch (err) {
            let left = null;
            if (errorKind(err) === "AuthenticationFailed")
                left = triesLeft(await service.history(session.login, 0, 100).catch(() => []), session.login);
            onNotice({ variant: "danger", text: describeError(err, { triesLeft: left }) });
        }
    }

    return (
        <Form onSubmit={submit} aria-labelledby="cr-own-title" className="cr-filters">
            <Title headingLevel="h2" size="lg" id="cr-own-title">{_("Your confirmation password")}</Title>
            <PasswordField id="cr-old-password" label={_("Current confirmation password")} value={f.old}
                           isRequired onChange={set("old")} />
            <PasswordField id="cr-new-password" label={_("New confirmation password")} value={f.new1}
                           isRequired onChange={set("new1")} />
            <PasswordField id="cr-new-password2" label={_("New confirmation password (again)")} value={f.new2}
                           isRequired onChange={set("new2")} />
            <ActionGroup>
                <Button variant="primary" type="submit"
                        isDisabled={!f.old || !f.new1 || !f.new2}>{_("Change")}</Button>
            </ActionGroup>
        </Form>
    );
}

function OthersPassword({ service, session, users, onNotice }) {
    const others = users.filter(u => u.login !== session.login);
    const [login, setLogin] = useState(others.length ? others[0].login : "");
    const [f, set, clear] = useFields(["new1", "new2", "mine"]);

    async function submit(event) {
        event.preventDefault();
        if (f.new1 !== f.new2) {
            onNotice({ variant: "danger", text: _("The new passwords do not match.") });
            return;
        }
        const call = service.setPassword(login, f.new1, f.mine);
        clear();
        try {
            await call;
            onNotice({ variant: "success", text: format(_("The confirmation password of {login} was set."), { login }) });
        } catch (err) {
            let left = null;
            if (errorKind(err) === "AuthenticationFailed")
                left = triesLeft(await service.history(session.login, 0, 100).catch(() => []), session.login);
            onNotice({ variant: "danger", text: describeError(err, { login, triesLeft: left }) });
        }
    }

    if (others.length === 0)
        return null;
    return (
        <Form onSubmit={submit} aria-labelledby="cr-other-title" className="cr-filters">
            <Title headingLevel="h2" size="lg" id="cr-other-title">{_("Another user's confirmation password")}</Title>
            <FormGroup label={_("User")} fieldId="cr-other-login" isRequired>
                <FormSelect id="cr-other-login" value={login} onChange={(_e, v) => setLogin(v)}>
                    {others.map(u => <FormSelectOption key={u.login} value={u.login} label={`${u.login} (${u.name})`} />)}
                </FormSelect>
            </FormGroup>
            <PasswordField id="cr-set-password" label={_("New confirmation password")} value={f.new1}
                           isRequired onChange={set("new1")} />
            <PasswordField id="cr-set-password2" label={_("New confirmation password (again)")} value={f.new2}
                           isRequired onChange={set("new2")} />
            <PasswordField id="cr-set-mine" label={_("Your confirmation password")} value={f.mine}
                           isRequired onChange={set("mine")} />
            <ActionGroup>
                <Button variant="primary" type="submit"
                        isDisabled={!login || !f.new1 || !f.new2 || !f.mine}>{_("Set")}</Button>
            </ActionGroup>
        </Form>
    );
}

export function PasswordPage({ service, session, users, go }) {
    const [notice, setNotice] = useState(null);
    return (
        <Screen crumbs={[_("User management"), _("Change password")]} title={_("Change password")}>
            <StackItem>
                <TextContent>
                    <Text>{_("The login password is changed in Cockpit's Accounts page.")}</Text>
                </TextContent>
            </StackItem>
            <Notice notice={notice} />
            <StackItem><OwnPassword service={service} session={session} onNotice={setNotice} /></StackItem>
            {isManager(session) &&
                <StackItem>
                    <OthersPassword service={service} session={session} users={users} onNotice={setNotice} />
                </StackItem>}
            <StackItem>
                <Button variant="secondary" onClick={() => go("menu")}>{_("Back")}</Button>
            </StackItem>
        </Screen>
    );
}
