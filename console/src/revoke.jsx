// 証明書失効: the product's three screens.  利用者一覧 (choose a user whose
// certificate can be revoked), 証明書失効確認 (the user, a reason, the
// confirmation password), 証明書失効結果.

import React, { useState } from "react";
import {
    ActionGroup, Button, Form, FormGroup, FormSelect, FormSelectOption, HelperText,
    HelperTextItem, StackItem, Text, TextContent,
} from "@patternfly/react-core";
import { Caption, Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";

import { _, expiryText, format, isRevocable, REASONS, reasonLabel, roleLabel, stateLabel } from "./i18n.js";
import { Details, Notice, Screen } from "./layout.jsx";
import { describeError, errorKind, triesLeft } from "./errors.js";
import { PasswordField } from "./password-field.jsx";

const CRUMB = () => _("User management");

export function SelectUser({ users, selected, onSelect, onBack, onNext, notice }) {
    const chosen = users.find(u => u.login === selected);
    const canGo = chosen && isRevocable(chosen.state);
    return (
        <Screen crumbs={[CRUMB(), _("User list")]} title={_("Certificate revocation")} step={0}>
            <StackItem>
                <TextContent>
                    <Text>{_("Select the user whose certificate is to be revoked, then press \"Revoke\".")}</Text>
                </TextContent>
            </StackItem>
            <Notice notice={notice} />
            <StackItem>
                <Table aria-label={_("User list")} variant="compact" className="cr-user-table">
                    <Caption>{_("User list")}</Caption>
                    <Thead>
                        <Tr>
                            <Th>{_("Select")}</Th>
                            <Th>{_("Login ID")}</Th>
                            <Th>{_("User name")}</Th>
                            <Th>{_("User role")}</Th>
                            <Th>{_("Certificate state")}</Th>
                            <Th>{_("Certificate expiry")}</Th>
                        </Tr>
                    </Thead>
                    <Tbody>
                        {users.map(u => {
                            const revocable = isRevocable(u.state);
                            return (
                                <Tr key={u.login} data-login={u.login}>
                                    <Td>
                                        <input type="radio" name="cr-revoke-user" value={u.login}
                                               checked={selected === u.login} disabled={!revocable}
                                               onChange={() => onSelect(u.login)}
                                               aria-label={format(_("Select {login}"), { login: u.login })} />
                                    </Td>
                                    <Td dataLabel={_("Login ID")}>{u.login}</Td>
                                    <Td dataLabel={_("User name")}>{u.name}</Td>
                                    <Td dataLabel={_("User role")}>{roleLabel(u.role)}</Td>
                                    <Td dataLabel={_("Certificate state")}>{stateLabel(u.state)}</Td>
                                    <Td dataLabel={_("Certificate expiry")}>{expiryText(u)}</Td>
                                </Tr>
                            );
                        })}
                    </Tbody>
                </Table>
            </StackItem>
            <StackItem>
                <ActionGroup className="cr-actions">
                    <Button variant="secondary" onClick={onBack}>{_("Back")}</Button>
                    <Button variant="danger" isDisabled={!canGo} onClick={() => onNext(chosen)}>{_("Revoke")}</Button>
                </ActionGroup>
            </StackItem>
        </Screen>
    );
}

function targetRows(user) {
    return [
        [_("Login ID"), user.login],
        [_("User name"), user.name],
        [_("Certificate state"), stateLabel(user.state)],
        [_("Certificate expiry"), expiryText(user)],
        [_("Serial number"), user.serial || "-"],
    ];
}

// target: the user as shown when this screen opened; the revocation names
// its certificate's serial, so that a certificate that changed meanwhile is
// refused (CertificateChanged) rather than another one revoked.
export function ConfirmRevoke({ service, session, target, onTarget, onBack, onDone, onGone }) {
    const [reason, setReason] = useState("unspecified");
    const [password, setPassword] = useState("");
    const [missing, setMissing] = useState(false);
    const [busy, setBusy] = useState(false);
    const [notice, setNotice] = useState(null);

    async function failed(err) {
        const kind = errorKind(err);
        if (kind === "AuthenticationFailed") {
            let left = null;
            try {
                left = triesLeft(await service.history(session.login, 0, 100), session.login);
            } catch (e) {
                left = null;
            }
            setNotice({ variant: "danger", text: describeError(err, { triesLeft: left }) });
        } else if (kind === "CertificateChanged" || kind === "NotRevocable") {
            let now = null;
            try {
                now = await service.user(target.login);
            } catch (e) {
                now = null;
            }
            if (now && isRevocable(now.state)) {
                onTarget(now);
                setNotice({ variant: "warning", text: describeError({ name: "org.certrevoke1.Error.CertificateChanged" }) });
            } else {
                onGone(describeError(err, { login: target.login }));
            }
        } else {
            setNotice({ variant: "danger", text: describeError(err, { login: target.login }) });
        }
    }

    async function submit(event) {
        event.preventDefault();
        if (busy)
            return;
        if (password === "") {
            setMissing(true);
            return;
        }
        setBusy(true);
        setNotice(null);
        // The password leaves the field for the call only.
        const call = service.revoke(target.login, target.serial, reason, password);
        setPassword("");
        try {
            onDone(await call);
        } catch (err) {
            await failed(err);
            setBusy(false);
        }
    }

    return (
        <Screen crumbs={[CRUMB(), _("Certificate revocation confirmation")]} title={_("Certificate revocation")}
                step={1}>
            <StackItem>
                <TextContent>
                    <Text>{_("The certificate of the following user will be revoked.")}</Text>
                    <Text>{_("Check the details, then press \"Execute\".")}</Text>
                    <Text>{_("* Required fields.")}</Text>
                </TextContent>
            </StackItem>
            <Notice notice={notice} />
            <StackItem>
                <Details id="cr-target-title" title={_("User whose certificate is revoked")} rows={targetRows(target)} />
            </StackItem>
            <StackItem>
                <Form onSubmit={submit} className="cr-confirm-form" aria-labelledby="cr-confirm-title">
                    <h2 id="cr-confirm-title" className="pf-v5-c-title pf-m-lg">{_("Confirmation")}</h2>
                    <FormGroup label={_("Revocation reason")} fieldId="cr-reason">
                        <FormSelect id="cr-reason" value={reason} onChange={(_e, v) => setReason(v)}>
                            {REASONS.map(([name]) =>
                                <FormSelectOption key={name} value={name} label={reasonLabel(name)} />)}
                        </FormSelect>
                    </FormGroup>
                    <PasswordField id="cr-password" label={_("Confirmation password")} value={password}
                                   isRequired missing={missing}
                                   onChange={v => { setPassword(v); setMissing(false) }} />
                    <ActionGroup className="cr-actions">
                        <Button variant="secondary" onClick={onBack} isDisabled={busy}>{_("Back")}</Button>
                        <Button variant="danger" type="submit" isLoading={busy} isDisabled={busy}>
                            {_("Execute")}
                        </Button>
                    </ActionGroup>
                </Form>
            </StackItem>
        </Screen>
    );
}

export function RevokeResult({ result, go }) {
    return (
        <Screen crumbs={[CRUMB(), _("Certificate revocation result")]} title={_("Certificate revocation")} step={2}>
            <StackItem>
                <TextContent>
                    <Text className="cr-result-text">{_("The certificate of the following user was revoked.")}</Text>
                </TextContent>
            </StackItem>
            <StackItem>
                <Details id="cr-result-title" title={_("Result of the certificate revocation")} rows={[
                    [_("Login ID"), result.login],
                    [_("User name"), result.name],
                    [_("Certificate state"), stateLabel(result.state)],
                ]} />
            </StackItem>
            <StackItem>
                <HelperText>
                    <HelperTextItem>
                        {_("The certificate is listed on the published certificate revocation list (CRL), and is removed from the token it was found on.")}
                    </HelperTextItem>
                </HelperText>
            </StackItem>
            <StackItem>
                <nav className="cr-links" aria-label={_("Where to go next")}>
                    <Button variant="link" isInline onClick={() => go("top")}>{_("To the top page")}</Button>
                    <Button variant="link" isInline onClick={() => go("menu")}>{_("To the user management menu")}</Button>
                    <Button variant="link" isInline onClick={() => go("revoke-select")}>{_("To the user list")}</Button>
                </nav>
            </StackItem>
        </Screen>
    );
}

