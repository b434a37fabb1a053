// The top page (業務選択) and the user management menu (利用者管理メニュー):
// each entry a button with what it does.  An entry the caller's role cannot
// use is not offered at all.

import React from "react";
import { Button, Card, CardBody, CardTitle, Gallery, StackItem, Title } from "@patternfly/react-core";

import { _ } from "./i18n.js";
import { Screen } from "./layout.jsx";
import { isManager } from "./service.js";

function Entry({ label, text, onClick }) {
    return (
        <Card isCompact className="cr-entry">
            <CardTitle>
                <Button variant="primary" onClick={onClick}>{label}</Button>
            </CardTitle>
            <CardBody>{text}</CardBody>
        </Card>
    );
}

export function TopPage({ go }) {
    return (
        <Screen title={_("Select a task")}>
            <StackItem>
                <Gallery hasGutter minWidths={{ default: "280px" }}>
                    <Entry label={_("User management")} onClick={() => go("menu")}
                           text={_("Add, remove and change users, and more.")} />
                    <Entry label={_("Operation history")} onClick={() => go("history")}
                           text={_("Look up the operations you or other users made.")} />
                </Gallery>
            </StackItem>
        </Screen>
    );
}

export function UserMenu({ session, go }) {
    const manager = isManager(session);
    return (
        <Screen crumbs={[_("User management"), _("User management menu")]} title={_("User management")}>
            <StackItem>
                <Title headingLevel="h2" size="lg">{_("Change and look up your own information")}</Title>
            </StackItem>
            <StackItem>
                <Gallery hasGutter minWidths={{ default: "280px" }}>
                    <Entry label={_("Change password")} onClick={() => go("password")}
                           text={_("Change your confirmation password.")} />
                </Gallery>
            </StackItem>
            <StackItem>
                <Title headingLevel="h2" size="lg">{_("Users")}</Title>
            </StackItem>
            <StackItem>
                <Gallery hasGutter minWidths={{ default: "280px" }}>
                    <Entry label={_("Manage user information")} onClick={() => go("users")}
                           text={manager
                               ? _("Add and remove users, and search and change the registered users.")
                               : _("Look up your registered information.")} />
                    {manager &&
                        <Entry label={_("Suspend and resume users")} onClick={() => go("suspend")}
                               text={_("Suspend users' service, and resume it.")} />}
                    {manager &&
                        <Entry label={_("Certificate revocation")} onClick={() => go("revoke-select")}
                               text={_("Master and administrator users can revoke their own and other users' certificates.")} />}
                </Gallery>
            </StackItem>
            <StackItem>
                <Button variant="secondary" onClick={() => go("top")}>{_("To the top page")}</Button>
            </StackItem>
        </Screen>
    );
}
