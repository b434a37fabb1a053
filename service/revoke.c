/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RevokeCertificate: the seed's three steps on the bus.  The call is
 * validated and authorized at once, the confirmation password goes to PAM
 * in a helper process, the revocation is committed when PAM agrees, and the
 * reply waits for the CRL that lists it. */
#include <errno.h>
#include <openssl/x509v3.h>

#include "confirm.h"
#include "bus-user.h"
#include "caller.h"
#include "cert.h"
#include "certrevoke.h"
#include "crl.h"
#include "log.h"
#include "publish.h"
#include "revoke.h"
#include "util.h"
#include "worker.h"

typedef struct Revocation {
        Context *context;
        sd_bus_message *message;
        Caller caller;
        char *login_id;
        char *serial;           /* normalised; NULL: the current one */
        const char *reason;     /* canonical name */
        char *name;
        char *revoked_serial;
} Revocation;

static void revocation_free(Revocation *rv) {
        if (!rv)
                return;
        sd_bus_message_unref(rv->message);
        caller_done(&rv->caller);
        free(rv->login_id);
        free(rv->serial);
        free(rv->name);
        free(rv->revoked_serial);
        free(rv);
}

static void current_cert_donep(CurrentCert *c) {
        current_cert_done(c);
}

/* The reasons DESIGN.md names; certificateHold belongs to suspension and
 * removeFromCRL to delta CRLs, neither is a revocation. */
static int parse_reason(const char *s, const char **ret) {
        int r = crl_reason_from_string(s);

        if (r < 0 || r == CRL_REASON_CERTIFICATE_HOLD || r == CRL_REASON_REMOVE_FROM_CRL)
                return -EINVAL;
        *ret = crl_reason_to_string(r);
        return 0;
}

/* What the user's current certificate allows: NoSuchUser, NotRevocable or
 * CertificateChanged, or 0 with the certificate in *cur. */
static int check_target(Context *c, const char *login, const char *serial, CurrentCert *cur,
                        sd_bus_error *error) {
        int r = store_current_certificate(c->store, login, cur);

        if (r == -ENOENT)
                return sd_bus_error_setf(error, CR_ERROR_NO_SUCH_USER, "no user with login ID \"%s\"", login);
        if (r < 0)
                return r;
        if (serial && (cur->cert_id == 0 || strcmp(serial, cur->serial) != 0))
                return sd_bus_error_setf(error, CR_ERROR_CERTIFICATE_CHANGED,
                                         "the current certificate of %s is no longer %s%s%s", login, serial,
                                         cur->cert_id ? " but " : "", cur->cert_id ? cur->serial : "");
        if (cur->state != CR_CERT_ISSUED && cur->state != CR_CERT_RENEWED)
                return sd_bus_error_setf(error, CR_ERROR_NOT_REVOCABLE,
                                         "the certificate of %s is %s: only issued or renewed ones can be revoked",
                                         login, cr_cert_state_to_string(cur->state));
        return 0;
}

static void reply_error(Revocation *rv, const sd_bus_error *e) {
        (void) sd_bus_reply_method_error(rv->message, e);
}

static void on_published(Context *c, int result, void *userdata) {
        Revocation *rv = userdata;

        (void) c;
        if (result < 0)
                (void) sd_bus_reply_method_errorf(rv->message, SD_BUS_ERROR_FAILED,
                                                  "the revocation of %s is recorded, but the CRL could not be "
                                                  "published: %s; it is published as soon as that is mended",
                                                  rv->login_id, strerror(-result));
        else
                (void) sd_bus_reply_method_return(rv->message, "(sss)", rv->login_id, rv->name,
                                                  cr_cert_state_to_string(CR_CERT_REVOKED));
        revocation_free(rv);
}

static int emit_revoked(Context *c, const Revocation *rv, uint64_t when) {
        user_emit_changed(c, rv->login_id);
        return sd_bus_emit_signal(c->bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "CertificateRevoked", "ssst",
                                  rv->login_id, rv->revoked_serial, rv->reason, when);
}

static void store_rollbackp(Store **s) {
        if (*s)
                store_rollback(*s);
}

/* The state may have changed while PAM ran: check again, in the transaction. */
static int record(Context *c, Revocation *rv, CurrentCert *cur, uint64_t when, uint64_t *ret_seq,
                  sd_bus_error *error) {
        _cleanup_(store_rollbackp) Store *tx = NULL;
        int r;

        if ((r = store_begin(c->store)) < 0)
                return r;
        tx = c->store;
        if ((r = check_target(c, rv->login_id, rv->serial, cur, error)) < 0)
                return r;
        r = store_revoke(c->store, cur->cert_id, when, rv->reason, caller_name(&rv->caller), ret_seq);
        if (r == -EALREADY)
                return sd_bus_error_setf(error, CR_ERROR_NOT_REVOCABLE, "the certificate of %s is revoked already",
                                         rv->login_id);
        if (r < 0 || (r = store_history_add(c->store, caller_name(&rv->caller), "revoke", rv->login_id, "ok")) < 0 ||
            (r = store_commit(c->store)) < 0)
                return r;
        tx = NULL;
        return 0;
}

static void confirmed(Context *c, Revocation *rv) {
        _cleanup_(current_cert_donep) CurrentCert cur = {};
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t seq = 0, when = now_usec();
        int r;

        (void) store_auth_succeeded(c->store, rv->caller.login);
        r = record(c, rv, &cur, when, &seq, &error);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        sd_bus_error_set_errnof(&error, r, "the revocation could not be recorded: %m");
                (void) store_history_add(c->store, caller_name(&rv->caller), "revoke", rv->login_id, error.name);
                reply_error(rv, &error);
                revocation_free(rv);
                return;
        }
        rv->name = TAKE_PTR(cur.name);
        rv->revoked_serial = TAKE_PTR(cur.serial);
        log_event(LOG_NOTICE, CR_MESSAGE_REVOKED, "CERTREVOKE_LOGIN", rv->login_id, "CERTREVOKE_SERIAL",
                  rv->revoked_serial, "certificate %s of %s revoked (%s) by %s", rv->revoked_serial,
                  rv->login_id, rv->reason, caller_name(&rv->caller));
        (void) emit_revoked(c, rv, when);
        r = publish_revocation(c, seq, cur.cert_id, rv->login_id, cur.uri, cur.der, cur.der_len, on_published, rv);
        if (r < 0)
                on_published(c, r, rv);
}

static int validate(sd_bus_message *m, Revocation *rv, const char **ret_password, sd_bus_error *error) {
        const char *login, *serial, *reason, *why;

        if (sd_bus_message_read(m, "ssss", &login, &serial, &reason, ret_password) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "expected (ssss)");
        if ((why = cr_login_id_invalid(login)))
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
        if ((why = cr_serial_invalid(serial)))
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
        if (strnlen(reason, CR_REASON_MAX + 1) > CR_REASON_MAX)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "reason is longer than %d bytes", CR_REASON_MAX);
        /* refused before PAM sees it, so it counts as no attempt */
        if (cr_password_too_long(*ret_password))
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS,
                                         "the confirmation password is longer than %d bytes", CR_PASSWORD_MAX);
        if (parse_reason(reason, &rv->reason) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS,
                                         "unknown revocation reason \"%s\": use unspecified, keyCompromise, "
                                         "CACompromise, affiliationChanged, superseded, cessationOfOperation, "
                                         "privilegeWithdrawn or AACompromise", reason);
        if (*serial && cert_serial_normalize(serial, &rv->serial) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "serial \"%s\" is not hexadecimal", serial);
        if (!(rv->login_id = strdup(login)))
                return -ENOMEM;
        return 0;
}

static void revocation_freep(void *p) {
        revocation_free(p);
}

static void on_confirmed(Context *c, sd_bus_message *m, const Caller *caller, void *userdata) {
        (void) m, (void) caller;
        confirmed(c, userdata);
}

static int authorize(Context *c, Revocation *rv, sd_bus_error *error) {
        const char *why;

        if (!caller_is_privileged(&rv->caller)) {
                (void) store_history_add(c->store, caller_name(&rv->caller), "revoke", rv->login_id, "denied");
                return sd_bus_error_setf(error, CR_ERROR_ACCESS_DENIED,
                                         "only master and administrator users may revoke certificates");
        }
        if (!publish_ready(c, &why))
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED, "%s", why);
        return 0;
}

static void revocation_freepp(Revocation **p) {
        revocation_free(*p);
}

int method_revoke_certificate(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(current_cert_donep) CurrentCert cur = {};
        _cleanup_(revocation_freepp) Revocation *rv = calloc(1, sizeof *rv);
        Context *c = userdata;
        const char *password = NULL;
        int r;

        if (!rv)
                return -ENOMEM;
        rv->context = c;
        if ((r = validate(m, rv, &password, error)) < 0 ||
            (r = caller_identify(c, m, &rv->caller)) < 0 ||
            (r = authorize(c, rv, error)) < 0 ||
            (r = confirm_check_lock(c, &rv->caller, "revoke", rv->login_id, error)) < 0)
                return r;
        /* answered before the password is asked for: nothing to confirm */
        if ((r = check_target(c, rv->login_id, rv->serial, &cur, error)) < 0) {
                (void) store_history_add(c->store, caller_name(&rv->caller), "revoke", rv->login_id,
                                         sd_bus_error_is_set(error) ? error->name : "failed");
                return r;
        }
        if ((r = worker_admit(c, rv->caller.uid, rv->caller.role, error)) < 0)
                return r;
        rv->message = sd_bus_message_ref(m);
        r = confirm_request(c, m, &rv->caller, "revoke", rv->login_id, 3, on_confirmed, revocation_freep, rv, error);
        if (r >= 0)
                TAKE_PTR(rv);
        return r;
}
