// The frame every screen shares: the path (利用者管理 > 利用者一覧), the
// title, the revocation's progress line, messages, and the details lists.

import React, { useEffect, useRef } from "react";
import {
    Alert, Breadcrumb, BreadcrumbItem, DescriptionList, DescriptionListDescription, DescriptionListGroup,
    DescriptionListTerm, PageSection, Stack, StackItem, Title,
} from "@patternfly/react-core";

import { _ } from "./i18n.js";

const STEPS = [
    () => _("Select user"),
    () => _("Revoke certificate"),
    () => _("Revocation complete"),
];

// 利用者を選択 ▶ 証明書失効 ▶ 失効完了, the current step marked.
export function Steps({ current }) {
    const items = [];
    STEPS.forEach((label, i) => {
        if (i > 0)
            items.push(<li key={`sep${i}`} className="cr-steps-sep" aria-hidden="true"> ▶ </li>);
        items.push(
            <li key={i} className={i === current ? "cr-step cr-step-current" : "cr-step"}
                aria-current={i === current ? "step" : undefined}>
                {label()}
            </li>);
    });
    return <ol className="cr-steps" aria-label={_("Progress")}>{items}</ol>;
}

// A screen: crumbs is a list of texts, the last being this screen; the
// title takes the focus when the screen appears, so that the keyboard and
// a screen reader start at its top.
export function Screen({ crumbs, title, step, children }) {
    const heading = useRef(null);
    useEffect(() => {
        if (heading.current)
            heading.current.focus();
    }, [title, crumbs && crumbs.join(">")]);
    return (
        <PageSection className="cr-screen">
            <Stack hasGutter>
                {crumbs &&
                    <StackItem>
                        <Breadcrumb aria-label={_("Breadcrumb")}>
                            {crumbs.map((c, i) =>
                                <BreadcrumbItem key={i} isActive={i === crumbs.length - 1}>{c}</BreadcrumbItem>)}
                        </Breadcrumb>
                    </StackItem>}
                <StackItem>
                    <Title headingLevel="h1" size="2xl" tabIndex={-1} ref={heading} className="cr-title">
                        {title}
                    </Title>
                </StackItem>
                {step !== undefined && <StackItem><Steps current={step} /></StackItem>}
                {children}
            </Stack>
        </PageSection>
    );
}

// Messages: { variant: "danger"|"warning"|"success"|"info", text }.
export function Notice({ notice }) {
    if (!notice)
        return null;
    return (
        <StackItem>
            <Alert isInline variant={notice.variant} title={notice.text} className="cr-notice"
                   aria-live={notice.variant === "danger" ? "assertive" : "polite"} />
        </StackItem>
    );
}

// A titled list of term: value pairs, as the product's 対象利用者 boxes.
export function Details({ title, rows, id }) {
    return (
        <section aria-labelledby={id} className="cr-details">
            <Title headingLevel="h2" size="lg" id={id}>{title}</Title>
            <DescriptionList isHorizontal isCompact>
                {rows.map(([term, desc]) =>
                    <DescriptionListGroup key={term}>
                        <DescriptionListTerm>{term}</DescriptionListTerm>
                        <DescriptionListDescription>{desc}</DescriptionListDescription>
                    </DescriptionListGroup>)}
            </DescriptionList>
        </section>
    );
}
