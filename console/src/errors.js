// The daemon's errors in words the administrator can act on.  The D-Bus
// error name says what happened; the message carries the numbers (minutes,
// seconds) the words need.

import { _, format } from "./i18n.js";

const PREFIX = "org.certrevoke1.Error.";

// The daemon locks a login after this many failed confirmations in a row
// (MAX_FAILURES in the service); the tries left are counted against it.
export const MAX_CONFIRMATION_FAILURES = 5;

export function errorKind(err) {
    const name = (err && err.name) || "";
    if (name.startsWith(PREFIX))
        return name.slice(PREFIX.length);
    if (name === "org.freedesktop.DBus.Error.AccessDenied")
        return "AccessDenied";
    if (name === "org.freedesktop.DBus.Error.InvalidArgs")
        return "InvalidArgs";
    if (err && (err.problem === "not-found" || name === "org.freedesktop.DBus.Error.ServiceUnknown"))
        return "Unavailable";
    return "Failed";
}

// "… try again in 3 minutes" / "… try again in 2 s": the wait in seconds.
export function retryAfterSeconds(err) {
    const m = /try again in (\d+) *(minutes?|min|s|seconds?)\b/.exec((err && err.message) || "");
    if (!m)
        return null;
    return m[2].startsWith("m") ? Number(m[1]) * 60 : Number(m[1]);
}

function clock(secondsFromNow) {
    const d = new Date(Date.now() + secondsFromNow * 1000);
    return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

// The text of an error; extra.triesLeft (wrong password) and extra.login
// (who it was about) where known.
export function describeError(err, extra = {}) {
    const wait = retryAfterSeconds(err);
    switch (errorKind(err)) {
    case "AuthenticationFailed":
        if (extra.triesLeft === undefined || extra.triesLeft === null)
            return _("The confirmation password is wrong.");
        if (extra.triesLeft <= 0)
            return _("The confirmation password is wrong. No tries are left: confirmations are locked for 15 minutes.");
        return format(_("The confirmation password is wrong. {n} tries left before confirmations are locked."),
                      { n: extra.triesLeft });
    case "RateLimited":
        if (wait === null)
            return _("Too many wrong confirmation passwords. Try again later.");
        return format(_("Too many wrong confirmation passwords. Try again in {minutes} minutes (after {time})."),
                      { minutes: Math.ceil(wait / 60), time: clock(wait) });
    case "Busy":
        return format(_("The service is busy. Try again in {seconds} seconds."), { seconds: wait === null ? 1 : wait });
    case "CertificateChanged":
        return _("The user's certificate changed since this screen was shown. Check the new certificate below and execute again.");
    case "NotRevocable":
        return _("This certificate cannot be revoked: only issued or renewed certificates can.");
    case "NoSuchUser":
        return format(_("There is no user {login}."), { login: extra.login || "" });
    case "UserExists":
        return format(_("A user {login} exists already."), { login: extra.login || "" });
    case "AccessDenied":
        return format(_("You are not allowed to do this: {why}"), { why: (err && err.message) || "" });
    case "InvalidArgs":
        return format(_("The input was refused: {why}"), { why: (err && err.message) || "" });
    case "Unavailable":
        return _("The certificate revocation service cannot be reached.");
    default:
        return format(_("The operation failed: {why}"), { why: (err && err.message) || String(err) });
    }
}

// Failed confirmations in a row by login, from their own history (newest
// last): counted back to the last good one; a lock that ran out started
// a fresh count, hence the modulo.
export function triesLeft(history, login) {
    let failures = 0;
    for (let i = history.length - 1; i >= 0; i--) {
        const row = history[i];
        if (row.actor !== login || row.action !== "confirm")
            continue;
        if (row.result === "ok")
            break;
        if (row.result === "failed" || row.result === "account-refused")
            failures++;
    }
    if (failures === 0)
        return MAX_CONFIRMATION_FAILURES;
    return MAX_CONFIRMATION_FAILURES - ((failures - 1) % MAX_CONFIRMATION_FAILURES + 1);
}
