// Words and dates as the page shows them.  The English text is the msgid;
// po/ja.po gives the product's Japanese, and Cockpit's language setting
// picks which one po.js brings.

import cockpit from "./cockpit.js";

export const _ = cockpit.gettext;

// Marks a string for translation where it is defined; _() translates it
// where it is shown.
export const N_ = s => s;

// format("{login} ({role})", { login, role }): fills named places, so that a
// translation may put them in its own order.
export function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

const STATES = {
    issued: N_("Issued"),
    renewed: N_("Renewed"),
    expired: N_("Expired"),
    "not-issued": N_("Not issued"),
    revoked: N_("Revoked"),
};

const ROLES = {
    master: N_("Master user"),
    admin: N_("Administrator user"),
    general: N_("General user"),
    worker: N_("Worker user"),
};

export const ROLE_NAMES = Object.keys(ROLES);

export function stateLabel(state) {
    return state in STATES ? _(STATES[state]) : state;
}

export function roleLabel(role) {
    return role in ROLES ? _(ROLES[role]) : role;
}

// The certificate states that can be revoked (the API's rule).
export function isRevocable(state) {
    return state === "issued" || state === "renewed";
}

function pad(n) {
    return String(n).padStart(2, "0");
}

// A time in µs since the epoch, in the browser's time zone, in the
// product's form (2019年12月16日 09時59分39秒 in Japanese).
export function formatTime(usec) {
    if (!usec)
        return "-";
    const d = new Date(Number(usec) / 1000);
    return format(_("{year}-{month}-{day} {hour}:{minute}:{second}"), {
        year: d.getFullYear(),
        month: pad(d.getMonth() + 1),
        day: pad(d.getDate()),
        hour: pad(d.getHours()),
        minute: pad(d.getMinutes()),
        second: pad(d.getSeconds()),
    });
}

// The expiry column: only a valid certificate has one to show.
export function expiryText(user) {
    return isRevocable(user.state) ? formatTime(user.notAfter) : "-";
}

// RFC 5280 CRLReason names as the API takes them, each with a gloss.
export const REASONS = [
    ["unspecified", N_("no reason given")],
    ["keyCompromise", N_("the private key was compromised")],
    ["CACompromise", N_("the CA's key was compromised")],
    ["affiliationChanged", N_("the user's affiliation changed")],
    ["superseded", N_("replaced by a new certificate")],
    ["cessationOfOperation", N_("no longer needed")],
    ["privilegeWithdrawn", N_("the user's privilege was withdrawn")],
    ["AACompromise", N_("the attribute authority was compromised")],
];

export function reasonLabel(reason) {
    const found = REASONS.find(([name]) => name === reason);
    return found ? `${found[0]} (${_(found[1])})` : reason;
}
