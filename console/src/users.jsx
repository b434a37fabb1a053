// 利用者情報の管理: search the users, add one, change a role, remove one.
// Managers (master and admin users) change; everyone else sees their own
// row only, as the daemon gives it.

import React, { useState } from "react";
import {
    ActionGroup, Button, Form, FormGroup, FormSelect, FormSelectOption, Grid, GridItem, Modal, SearchInput,
    StackItem, TextInput, Title, Toolbar, ToolbarContent, ToolbarItem,
} from "@patternfly/react-core";
import { Caption, Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";

import { _, format, ROLE_NAMES, roleLabel, stateLabel } from "./i18n.js";
import { Notice, Screen } from "./layout.jsx";
import { describeError } from "./errors.js";
import { isManager } from "./service.js";

function matches(user, query) {
    const q = query.trim().toLowerCase();
    return q === "" || user.login.toLowerCase().includes(q) || user.name.toLowerCase().includes(q);
}

function statusLabel(user) {
    return user.suspended ? _("Suspended") : _("Active");
}

function RoleCell({ user, onChange }) {
    const [role, setRole] = useState(user.role);
    const id = `cr-role-${user.login}`;
    return (
        <div className="cr-role-cell">
            <FormSelect id={id} value={role} onChange={(_e, v) => setRole(v)}
                        aria-label={format(_("Role of {login}"), { login: user.login })}>
                {ROLE_NAMES.map(r => <FormSelectOption key={r} value={r} label={roleLabel(r)} />)}
            </FormSelect>
            <Button variant="secondary" size="sm" isDisabled={role === user.role}
                    aria-label={format(_("Change the role of {login}"), { login: user.login })}
                    onClick={() => onChange(user, role)}>
                {_("Change")}
            </Button>
        </div>
    );
}

function AddUserForm({ onAdd }) {
    const [login, setLogin] = useState("");
    const [name, setName] = useState("");
    const [role, setRole] = useState("general");
    const [uid, setUid] = useState("");

    async function submit(event) {
        event.preventDefault();
        if (await onAdd(login.trim(), name.trim(), role, Number(uid))) {
            setLogin("");
            setName("");
            setUid("");
        }
    }

    return (
        <Form onSubmit={submit} aria-labelledby="cr-add-title">
            <Title headingLevel="h2" size="lg" id="cr-add-title">{_("Add a user")}</Title>
            <Grid hasGutter md={3}>
                <GridItem>
                    <FormGroup label={_("Login ID")} fieldId="cr-add-login" isRequired>
                        <TextInput id="cr-add-login" value={login} isRequired onChange={(_e, v) => setLogin(v)} />
                    </FormGroup>
                </GridItem>
                <GridItem>
                    <FormGroup label={_("User name")} fieldId="cr-add-name" isRequired>
                        <TextInput id="cr-add-name" value={name} isRequired onChange={(_e, v) => setName(v)} />
                    </FormGroup>
                </GridItem>
                <GridItem>
                    <FormGroup label={_("User role")} fieldId="cr-add-role" isRequired>
                        <FormSelect id="cr-add-role" value={role} onChange={(_e, v) => setRole(v)}>
                            {ROLE_NAMES.map(r => <FormSelectOption key={r} value={r} label={roleLabel(r)} />)}
                        </FormSelect>
                    </FormGroup>
                </GridItem>
                <GridItem>
                    <FormGroup label={_("UID")} fieldId="cr-add-uid" isRequired>
                        <TextInput id="cr-add-uid" type="number" min={1} value={uid} isRequired
                                   onChange={(_e, v) => setUid(v)} />
                    </FormGroup>
                </GridItem>
            </Grid>
            <ActionGroup>
                <Button variant="primary" type="submit">{_("Add")}</Button>
            </ActionGroup>
        </Form>
    );
}

export function ManageUsers({ service, session, users, go, reload }) {
    const [query, setQuery] = useState("");
    const [notice, setNotice] = useState(null);
    const [removing, setRemoving] = useState(null);
    const manager = isManager(session);
    const shown = users.filter(u => matches(u, query));

    async function act(promise, okText, login) {
        try {
            await promise;
            setNotice({ variant: "success", text: okText });
            reload();
            return true;
        } catch (err) {
            setNotice({ variant: "danger", text: describeError(err, { login }) });
            return false;
        }
    }

    const add = (login, name, role, uid) =>
        act(service.addUser(login, name, role, uid), format(_("User {login} was added."), { login }), login);
    const changeRole = (user, role) =>
        act(service.setRole(user.login, role),
            format(_("The role of {login} is now {role}."), { login: user.login, role: roleLabel(role) }), user.login);
    async function remove() {
        const user = removing;
        setRemoving(null);
        await act(service.removeUser(user.login), format(_("User {login} was removed."), { login: user.login }),
                  user.login);
    }

    return (
        <Screen crumbs={[_("User management"), _("Manage user information")]} title={_("Manage user information")}>
            <Notice notice={notice} />
            <StackItem>
                <Toolbar>
                    <ToolbarContent>
                        <ToolbarItem>
                            <SearchInput aria-label={_("Search by login ID or name")}
                                         placeholder={_("Search by login ID or name")}
                                         value={query} onChange={(_e, v) => setQuery(v)} onClear={() => setQuery("")} />
                        </ToolbarItem>
                    </ToolbarContent>
                </Toolbar>
                <Table aria-label={_("Registered users")} variant="compact">
                    <Caption>{_("Registered users")}</Caption>
                    <Thead>
                        <Tr>
                            <Th>{_("Login ID")}</Th>
                            <Th>{_("User name")}</Th>
                            <Th>{_("User role")}</Th>
                            <Th>{_("UID")}</Th>
                            <Th>{_("Certificate state")}</Th>
                            <Th>{_("Service")}</Th>
                            {manager && <Th>{_("Actions")}</Th>}
                        </Tr>
                    </Thead>
                    <Tbody>
                        {shown.map(u =>
                            <Tr key={u.login} data-login={u.login}>
                                <Td dataLabel={_("Login ID")}>{u.login}</Td>
                                <Td dataLabel={_("User name")}>{u.name}</Td>
                                <Td dataLabel={_("User role")}>
                                    {manager ? <RoleCell key={u.role} user={u} onChange={changeRole} /> : roleLabel(u.role)}
                                </Td>
                                <Td dataLabel={_("UID")}>{u.uid}</Td>
                                <Td dataLabel={_("Certificate state")}>{stateLabel(u.state)}</Td>
                                <Td dataLabel={_("Service")}>{statusLabel(u)}</Td>
                                {manager &&
                                    <Td dataLabel={_("Actions")}>
                                        <Button variant="link" isDanger isDisabled={u.login === session.login}
                                                aria-label={format(_("Remove {login}"), { login: u.login })}
                                                onClick={() => setRemoving(u)}>
                                            {_("Remove")}
                                        </Button>
                                    </Td>}
                            </Tr>)}
                    </Tbody>
                </Table>
            </StackItem>
            {manager && <StackItem><AddUserForm onAdd={add} /></StackItem>}
            <StackItem>
                <Button variant="secondary" onClick={() => go("menu")}>{_("Back")}</Button>
            </StackItem>
            {removing &&
                <Modal variant="small" isOpen title={_("Remove user")} onClose={() => setRemoving(null)}
                       actions={[
                           <Button key="remove" variant="danger" onClick={remove}>{_("Remove")}</Button>,
                           <Button key="cancel" variant="link" onClick={() => setRemoving(null)}>{_("Cancel")}</Button>,
                       ]}>
                    {format(_("Remove the user {login} ({name})?"), { login: removing.login, name: removing.name })}
                </Modal>}
        </Screen>
    );
}
