// The page: who is logged in, the users they may see, and which screen is
// shown.  The users are read again whenever the daemon announces a change,
// so that another administrator's revocation shows without a reload.

import React, { useCallback, useEffect, useMemo, useState } from "react";
import { Alert, Label, Page, PageSection, Spinner, StackItem } from "@patternfly/react-core";

import { _, format, roleLabel } from "./i18n.js";
import { Service, isManager, whoAmI } from "./service.js";
import { describeError } from "./errors.js";
import { Screen } from "./layout.jsx";
import { TopPage, UserMenu } from "./menu.jsx";
import { ConfirmRevoke, RevokeResult, SelectUser } from "./revoke.jsx";
import { ManageUsers } from "./users.jsx";
import { SuspendUsers } from "./suspend.jsx";
import { PasswordPage } from "./password.jsx";
import { HistoryPage } from "./history.jsx";

// Without signals (a user outside the group certrevoke) the list is still
// read again this often.
const POLL_MS = 30000;
// Signals come in bursts (PropertiesChanged, then CertificateRevoked):
// one read after the burst.
const SETTLE_MS = 150;

const MANAGER_VIEWS = ["suspend", "revoke-select", "revoke-confirm", "revoke-result"];

function useUsers(service) {
    const [state, setState] = useState({ users: null, session: null, error: null });
    const reload = useCallback(async () => {
        try {
            const users = await service.users();
            const session = await whoAmI(users);
            setState({ users, session, error: null });
        } catch (err) {
            setState(s => ({ ...s, error: describeError(err) }));
        }
    }, [service]);

    useEffect(() => {
        let timer = null;
        reload();
        const unsubscribe = service.subscribe(() => {
            clearTimeout(timer);
            timer = setTimeout(reload, SETTLE_MS);
        });
        const poll = setInterval(reload, POLL_MS);
        return () => {
            unsubscribe();
            clearTimeout(timer);
            clearInterval(poll);
        };
    }, [service, reload]);
    return [state, reload];
}

function WhoBar({ session }) {
    const who = session.login
        ? format(_("Logged in as {login} ({role})"), { login: session.login, role: roleLabel(session.role) })
        : format(_("Logged in as {login}"), { login: session.name });
    return (
        <PageSection variant="light" className="cr-whobar">
            <Label color={isManager(session) ? "blue" : "grey"}>{who}</Label>
        </PageSection>
    );
}

export function App() {
    const service = useMemo(() => new Service(), []);
    const [{ users, session, error }, reload] = useUsers(service);
    const [view, setView] = useState("top");
    const [selected, setSelected] = useState(null);
    const [target, setTarget] = useState(null);
    const [result, setResult] = useState(null);
    const [listNotice, setListNotice] = useState(null);

    const go = useCallback(name => {
        setListNotice(null);
        if (name === "revoke-select")
            setSelected(null);
        setView(name);
    }, []);

    if (!session) {
        return (
            <Page>
                <PageSection>
                    {error ? <Alert isInline variant="danger" title={error} /> : <Spinner aria-label={_("Loading")} />}
                </PageSection>
            </Page>
        );
    }

    let shown = view;
    if (!session.role)
        shown = "nobody";
    else if (MANAGER_VIEWS.includes(view) && !isManager(session))
        shown = "menu";

    let screen;
    switch (shown) {
    case "nobody":
        screen = (
            <Screen title={_("Certificate revocation")}>
                <StackItem>
                    <Alert isInline variant="warning"
                           title={format(_("Your account ({name}, UID {uid}) is not a user of the certificate revocation service."),
                                         { name: session.name, uid: session.uid })} />
                </StackItem>
            </Screen>);
        break;
    case "menu":
        screen = <UserMenu session={session} go={go} />;
        break;
    case "revoke-select":
        screen = (
            <SelectUser users={users} selected={selected} onSelect={setSelected} notice={listNotice}
                        onBack={() => go("menu")}
                        onNext={user => { setTarget(user); setListNotice(null); setView("revoke-confirm") }} />);
        break;
    case "revoke-confirm":
        screen = (
            <ConfirmRevoke service={service} session={session} target={target} onTarget={setTarget}
                           onBack={() => { setListNotice(null); setView("revoke-select") }}
                           onDone={r => { setResult(r); setSelected(null); setView("revoke-result"); reload() }}
                           onGone={text => {
                               setSelected(null);
                               setListNotice({ variant: "warning", text });
                               setView("revoke-select");
                               reload();
                           }} />);
        break;
    case "revoke-result":
        screen = <RevokeResult result={result} go={go} />;
        break;
    case "users":
        screen = <ManageUsers service={service} session={session} users={users} go={go} reload={reload} />;
        break;
    case "suspend":
        screen = <SuspendUsers service={service} session={session} users={users} go={go} reload={reload} />;
        break;
    case "password":
        screen = <PasswordPage service={service} session={session} users={users} go={go} />;
        break;
    case "history":
        screen = <HistoryPage service={service} session={session} users={users} go={go} />;
        break;
    default:
        screen = <TopPage go={go} />;
    }

    return (
        <Page className="cr-page">
            <WhoBar session={session} />
            {error && <PageSection><Alert isInline variant="danger" title={error} /></PageSection>}
            {screen}
        </Page>
    );
}

