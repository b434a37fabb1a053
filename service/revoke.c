/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RevokeCertificate: the seed's three steps on the bus.  The call is
 * validated and authorized at once, the confirmation password goes to PAM
 * in a helper process, the revocation is committed when PAM agrees, and the
 * reply waits for the CRL that lists it. */
#include <assert.h>
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
        uint64_t when;          /* revoked at, once recorded */
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

static int no_such_user(const char *login, sd_bus_error *error) {
        return sd_bus_error_setf(error, CR_ERROR_NO_SUCH_USER, "no user with login ID \"%s\"", login);
}

/* What a current certificate allows: NotRevocable or CertificateChanged,
 * or 0. */
static int judge_target(const char *login, const char *serial, const CurrentCert *cur, sd_bus_error *error) {
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

/* What the user's current certificate allows: NoSuchUser, NotRevocable or
 * CertificateChanged, or 0 with the certificate in *cur. */
static int check_target(Context *c, const char *login, const char *serial, CurrentCert *cur,
                        sd_bus_error *error) {
        int r = store_current_certificate(c->store, login, cur);

        if (r == -ENOENT)
                return no_such_user(login, error);
        if (r < 0)
                return r;
        return judge_target(login, serial, cur, error);
}

static void reply_error(Revocation *rv, const sd_bus_error *e) {
        (void) sd_bus_reply_method_error(rv->message, e);
}

static int emit_revoked(Context *c, const Revocation *rv);

/* The revocation is durable now (the build synced the store first) and
 * so, unless result says otherwise, is the CRL: emit, then reply. */
static void on_published(Context *c, int result, void *userdata) {
        Revocation *rv = userdata;

        (void) emit_revoked(c, rv);
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

static int emit_revoked(Context *c, const Revocation *rv) {
        user_emit_changed(c, rv->login_id);
        return sd_bus_emit_signal(c->bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "CertificateRevoked", "ssst",
                                  rv->login_id, rv->revoked_serial, rv->reason, rv->when);
}

static void store_rollbackp(Store **s) {
        if (*s)
                store_rollback(*s);
}

/* The change a confirmation allows, inside its transaction. */
typedef int (*revoke_act_fn)(Context *c, void *userdata, sd_bus_error *error);

/* One transaction: the confirmation, the revocations with their history
 * entries (act) and the number of the CRL that will list them. */
static int record_confirmed(Context *c, const Caller *caller, const char *target, revoke_act_fn act,
                            void *userdata, sd_bus_error *error) {
        _cleanup_(store_rollbackp) Store *tx = NULL;
        uint64_t number;
        int r;

        r = store_begin(c->store);
        if (r < 0)
                return r;
        tx = c->store;
        r = confirm_record_ok(c, caller, target);
        if (r < 0)
                return r;
        r = act(c, userdata, error);
        if (r < 0)
                return r;
        r = store_crl_reserve(c->store, &number);
        if (r < 0)
                return r;
        r = store_commit(c->store);
        if (r < 0)
                return r;
        tx = NULL;
        return 0;
}

typedef struct OneRevocation {
        Revocation *rv;
        CurrentCert *cur;
        uint64_t when, seq;
} OneRevocation;

/* The state may have changed while PAM ran: checked again here. */
static int revoke_one(Context *c, void *userdata, sd_bus_error *error) {
        OneRevocation *o = userdata;
        Revocation *rv = o->rv;
        int r;

        r = check_target(c, rv->login_id, rv->serial, o->cur, error);
        if (r < 0)
                return r;
        r = store_revoke(c->store, o->cur->cert_id, o->when, rv->reason, caller_name(&rv->caller), &o->seq);
        if (r == -EALREADY)
                return sd_bus_error_setf(error, CR_ERROR_NOT_REVOCABLE, "the certificate of %s is revoked already",
                                         rv->login_id);
        if (r < 0)
                return r;
        return store_history_add(c->store, caller_name(&rv->caller), "revoke", rv->login_id, "ok");
}

static int record(Context *c, Revocation *rv, CurrentCert *cur, uint64_t when, uint64_t *ret_seq,
                  sd_bus_error *error) {
        OneRevocation o = { .rv = rv, .cur = cur, .when = when };
        int r;

        r = record_confirmed(c, &rv->caller, rv->login_id, revoke_one, &o, error);
        if (r < 0)
                return r;
        *ret_seq = o.seq;
        return 0;
}

static void confirmed(Context *c, Revocation *rv) {
        _cleanup_(current_cert_donep) CurrentCert cur = {};
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t seq = 0, when = now_usec();
        int r;

        r = record(c, rv, &cur, when, &seq, &error);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        sd_bus_error_set_errnof(&error, r, "the revocation could not be recorded: %m");
                /* the password was right all the same */
                (void) confirm_record_ok(c, &rv->caller, rv->login_id);
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
        rv->when = when;
        r = publish_revocation(c, seq, cur.cert_id, rv->login_id, cur.uri, cur.der, cur.der_len, on_published, rv);
        if (r < 0)
                on_published(c, r, rv);
}

static int validate_reason_password(const char *reason, const char *password, const char **ret_reason,
                                    sd_bus_error *error) {
        if (strnlen(reason, CR_REASON_MAX + 1) > CR_REASON_MAX)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "reason is longer than %d bytes", CR_REASON_MAX);
        /* refused before PAM sees it, so it counts as no attempt */
        if (cr_password_too_long(password))
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS,
                                         "the confirmation password is longer than %d bytes", CR_PASSWORD_MAX);
        if (parse_reason(reason, ret_reason) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS,
                                         "unknown revocation reason \"%s\": use unspecified, keyCompromise, "
                                         "CACompromise, affiliationChanged, superseded, cessationOfOperation, "
                                         "privilegeWithdrawn or AACompromise", reason);
        return 0;
}

static int validate(sd_bus_message *m, Revocation *rv, const char **ret_password, sd_bus_error *error) {
        const char *login, *serial, *reason, *why;
        int r;

        if (sd_bus_message_read(m, "ssss", &login, &serial, &reason, ret_password) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "expected (ssss)");
        if ((why = cr_login_id_invalid(login)))
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
        if ((why = cr_serial_invalid(serial)))
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
        if ((r = validate_reason_password(reason, *ret_password, &rv->reason, error)) < 0)
                return r;
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

/* One revocation or a batch (target: the login, or "batch of N"). */
static int authorize(Context *c, const Caller *caller, const char *target, sd_bus_error *error) {
        const char *why;

        if (!caller_is_privileged(caller)) {
                (void) store_history_add(c->store, caller_name(caller), "revoke", target, "denied");
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
        if ((r = validate(m, rv, &password, error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_revoke_certificate, userdata, &rv->caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if ((r = authorize(c, &rv->caller, rv->login_id, error)) < 0 ||
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
        r = confirm_request_joined(c, m, &rv->caller, "revoke", rv->login_id, 3, on_confirmed, revocation_freep, rv,
                                   error);
        if (r >= 0)
                TAKE_PTR(rv);
        return r;
}

/* ---- RevokeCertificates: several users, one confirmation, one commit ---- */

typedef struct Batch {
        Context *context;
        sd_bus_message *message;
        Caller caller;
        const char *reason;             /* canonical name */
        StoreRevokeTarget *targets;     /* login_id and serial are owned copies */
        size_t n;
        char label[32];                 /* "batch of N": the confirmation's target */
        size_t waiting;                 /* publications not reported yet */
        int result;                     /* the first publication failure */
        uint64_t when;                  /* revoked at, once recorded */
} Batch;

static void batch_free(Batch *b) {
        if (!b)
                return;
        sd_bus_message_unref(b->message);
        caller_done(&b->caller);
        for (size_t i = 0; b->targets && i < b->n; i++) {
                free((char *) b->targets[i].login_id);
                free((char *) b->targets[i].serial);
        }
        store_revoke_targets_done(b->targets, b->n);
        free(b->targets);
        free(b);
}

static void batch_freep(void *p) {
        batch_free(p);
}

static void batch_freepp(Batch **p) {
        batch_free(*p);
}

/* Puts "target N (login): " before the message of error, N counted from 1. */
static int name_target(sd_bus_error *error, size_t index, const char *login) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        assert(sd_bus_error_is_set(error));
        sd_bus_error_move(&e, error);
        if (login)
                r = sd_bus_error_setf(error, e.name, "target %zu (%s): %s", index + 1, login, e.message);
        else
                r = sd_bus_error_setf(error, e.name, "target %zu: %s", index + 1, e.message);
        return r;
}

static int invalid_target(sd_bus_error *error, size_t index, const char *login, const char *why) {
        (void) sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "%s", why);
        return name_target(error, index, login);
}

static int index_compare(const void *a, const void *b, void *userdata) {
        const StoreRevokeTarget *t = userdata;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        int c = strcmp(t[x].login_id, t[y].login_id);

        return c != 0 ? c : (x > y) - (x < y);
}

/* The first target (in the order given) whose user came before: sorted by
 * login and position, each repeat follows the first of its login. */
static int check_duplicates(const Batch *b, sd_bus_error *error) {
        _cleanup_free_ size_t *order = malloc(b->n * sizeof *order);
        size_t first = SIZE_MAX, of = 0;

        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < b->n; i++)
                order[i] = i;
        qsort_r(order, b->n, sizeof *order, index_compare, b->targets);
        for (size_t i = 1, head = order[0]; i < b->n; i++) {
                if (strcmp(b->targets[order[i]].login_id, b->targets[order[i - 1]].login_id) != 0) {
                        head = order[i];
                        continue;
                }
                if (order[i] < first) {
                        first = order[i];
                        of = head;
                }
        }
        if (first == SIZE_MAX)
                return 0;
        (void) sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "the same user as target %zu", of + 1);
        return name_target(error, first, b->targets[first].login_id);
}

static int validate_target(Batch *b, size_t i, const char *login, const char *serial, sd_bus_error *error) {
        StoreRevokeTarget *t = &b->targets[i];
        const char *why;

        /* a login ID that is none is not repeated: it may be anything */
        if ((why = cr_login_id_invalid(login)))
                return invalid_target(error, i, NULL, why);
        if ((why = cr_serial_invalid(serial)))
                return invalid_target(error, i, login, why);
        if (!(t->login_id = strdup(login)))
                return -ENOMEM;
        if (*serial && cert_serial_normalize(serial, (char **) &t->serial) < 0)
                return invalid_target(error, i, login, "serial is not hexadecimal");
        return 0;
}

/* The targets, counted before any of them is looked at. */
static int read_targets(sd_bus_message *m, const char ***ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_free_ const char **v = NULL;
        const char *login, *serial;
        size_t n = 0;
        int r;

        if ((r = sd_bus_message_enter_container(m, 'a', "(ss)")) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "expected (a(ss)ss)");
        if (!(v = malloc(2 * (CR_REVOKE_TARGETS_MAX + 1) * sizeof *v)))
                return -ENOMEM;
        while ((r = sd_bus_message_read(m, "(ss)", &login, &serial)) > 0) {
                if (n == CR_REVOKE_TARGETS_MAX)
                        return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "at most %d targets a call",
                                                 CR_REVOKE_TARGETS_MAX);
                v[2 * n] = login;
                v[2 * n + 1] = serial;
                n++;
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "expected (a(ss)ss)");
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int validate_batch(sd_bus_message *m, Batch *b, sd_bus_error *error) {
        _cleanup_free_ const char **v = NULL;
        const char *reason, *password;
        int r;

        if ((r = read_targets(m, &v, &b->n, error)) < 0)
                return r;
        if (sd_bus_message_read(m, "ss", &reason, &password) < 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "expected (a(ss)ss)");
        if (b->n == 0)
                return sd_bus_error_setf(error, CR_ERROR_INVALID_ARGS, "no targets");
        if ((r = validate_reason_password(reason, password, &b->reason, error)) < 0)
                return r;
        if (!(b->targets = calloc(b->n, sizeof *b->targets)))
                return -ENOMEM;
        for (size_t i = 0; i < b->n; i++)
                if ((r = validate_target(b, i, v[2 * i], v[2 * i + 1], error)) < 0)
                        return r;
        snprintf(b->label, sizeof b->label, "batch of %zu", b->n);
        return check_duplicates(b, error);
}

/* The first target that cannot be revoked, named, with its history row. */
static int batch_refuse(Context *c, Batch *b, size_t index, int r, sd_bus_error *error) {
        const char *login = b->targets[index].login_id;

        if (r == -ENOENT)
                (void) no_such_user(login, error);
        else if (r == -EALREADY)
                (void) sd_bus_error_setf(error, CR_ERROR_NOT_REVOCABLE, "the certificate of %s is revoked already",
                                         login);
        if (!sd_bus_error_is_set(error))
                return r;
        (void) store_history_add(c->store, caller_name(&b->caller), "revoke", login, error->name);
        (void) name_target(error, index, login);
        return -EINVAL;
}

/* Every target as it stands now, before the password is asked for. */
static int precheck_batch(Context *c, Batch *b, sd_bus_error *error) {
        for (size_t i = 0; i < b->n; i++) {
                StoreRevokeTarget *t = &b->targets[i];
                int r = store_current_certificate(c->store, t->login_id, &t->cert);

                if (r >= 0)
                        r = judge_target(t->login_id, t->serial, &t->cert, error);
                current_cert_done(&t->cert);
                if (r < 0)
                        return batch_refuse(c, b, i, r, error);
        }
        return 0;
}

static void batch_reply(Batch *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *revoked = cr_cert_state_to_string(CR_CERT_REVOKED);
        int r;

        if (b->result < 0) {
                (void) sd_bus_reply_method_errorf(b->message, SD_BUS_ERROR_FAILED,
                                                  "the revocations of the %zu targets are recorded, but the CRL "
                                                  "could not be published: %s; it is published as soon as that "
                                                  "is mended", b->n, strerror(-b->result));
                return;
        }
        r = sd_bus_message_new_method_return(b->message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < b->n; i++)
                r = sd_bus_message_append(reply, "(sss)", b->targets[i].login_id, b->targets[i].cert.name, revoked);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0) {
                log_error_errno(r, "revoke: cannot answer the batch of %zu: %m", b->n);
                (void) sd_bus_reply_method_errno(b->message, r, NULL);
        }
}

/* Once the revocations are durable: the users' objects and one
 * CertificateRevoked each, before the reply. */
static void emit_batch(Context *c, const Batch *b) {
        for (size_t i = 0; i < b->n; i++) {
                const StoreRevokeTarget *t = &b->targets[i];

                user_emit_changed(c, t->login_id);
                (void) sd_bus_emit_signal(c->bus, CR_MANAGER_PATH, CR_MANAGER_IFACE, "CertificateRevoked", "ssst",
                                          t->login_id, t->cert.serial, b->reason, b->when);
        }
}

/* One call per target, each once its CRL is published: the reply waits
 * for the last. */
static void on_batch_published(Context *c, int result, void *userdata) {
        Batch *b = userdata;

        (void) c;
        assert(b->waiting > 0);
        if (result < 0 && b->result >= 0)
                b->result = result;
        if (--b->waiting > 0)
                return;
        emit_batch(c, b);
        batch_reply(b);
        batch_free(b);
}

static int judge_in_store(size_t index, StoreRevokeTarget *t, void *userdata) {
        (void) index;
        return judge_target(t->login_id, t->serial, &t->cert, userdata);
}

/* Every revocation is committed before the first is handed to the
 * publisher, so the build that serves them lists them all. */
static void log_batch(const Batch *b) {
        for (size_t i = 0; i < b->n; i++) {
                const StoreRevokeTarget *t = &b->targets[i];

                log_event(LOG_NOTICE, CR_MESSAGE_REVOKED, "CERTREVOKE_LOGIN", t->login_id, "CERTREVOKE_SERIAL",
                          t->cert.serial, "certificate %s of %s revoked (%s) by %s", t->cert.serial, t->login_id,
                          b->reason, caller_name(&b->caller));
        }
}

static void publish_batch(Context *c, Batch *b) {
        int r = 0;

        /* waiting counts one more until every target is queued, so that
         * no answer can come in between */
        b->waiting = 1;
        for (size_t i = 0; i < b->n && r >= 0; i++) {
                StoreRevokeTarget *t = &b->targets[i];

                r = publish_revocation(c, t->seq, t->cert.cert_id, t->login_id, t->cert.uri, t->cert.der,
                                       t->cert.der_len, on_batch_published, b);
                if (r >= 0)
                        b->waiting++;
        }
        if (r < 0)
                log_error_errno(r, "revoke: cannot queue the batch of %zu for publication: %m", b->n);
        on_batch_published(c, r, b);
}

typedef struct BatchRevocation {
        Batch *b;
        uint64_t when;
        size_t failed;
} BatchRevocation;

/* Every target or none: the state may have changed while PAM ran. */
static int revoke_batch(Context *c, void *userdata, sd_bus_error *error) {
        BatchRevocation *o = userdata;
        Batch *b = o->b;

        return store_revoke_batch(c->store, b->targets, b->n, o->when, b->reason, caller_name(&b->caller),
                                  judge_in_store, error, &o->failed);
}

static int record_batch(Context *c, Batch *b, uint64_t when, sd_bus_error *error, size_t *ret_failed) {
        BatchRevocation o = { .b = b, .when = when, .failed = b->n };
        int r;

        r = record_confirmed(c, &b->caller, b->label, revoke_batch, &o, error);
        *ret_failed = o.failed;
        return r;
}

static void batch_confirmed(Context *c, Batch *b) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t when = now_usec();
        size_t failed = 0;
        int r;

        r = record_batch(c, b, when, &error, &failed);
        if (r < 0) {
                (void) confirm_record_ok(c, &b->caller, b->label);
                if (failed < b->n)
                        r = batch_refuse(c, b, failed, r, &error);
                if (!sd_bus_error_is_set(&error)) {
                        log_error_errno(r, "revoke: cannot record the batch of %zu: %m", b->n);
                        sd_bus_error_set_errnof(&error, r, "the revocations could not be recorded: %m");
                        (void) store_history_add(c->store, caller_name(&b->caller), "revoke", b->label, error.name);
                }
                (void) sd_bus_reply_method_error(b->message, &error);
                batch_free(b);
                return;
        }
        b->when = when;
        log_batch(b);
        publish_batch(c, b);
}

static void on_batch_confirmed(Context *c, sd_bus_message *m, const Caller *caller, void *userdata) {
        (void) m, (void) caller;
        batch_confirmed(c, userdata);
}

int method_revoke_certificates(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(batch_freepp) Batch *b = calloc(1, sizeof *b);
        Context *c = userdata;
        int r;

        if (!b)
                return -ENOMEM;
        b->context = c;
        if ((r = validate_batch(m, b, error)) < 0)
                return r;
        r = caller_identify_or_wait(c, m, method_revoke_certificates, userdata, &b->caller);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* runs again once the bus says who called */
        if ((r = authorize(c, &b->caller, b->label, error)) < 0)
                return r;
        if ((r = confirm_check_lock(c, &b->caller, "revoke", b->label, error)) < 0)
                return r;
        /* answered before the password is asked for: nothing to confirm */
        if ((r = precheck_batch(c, b, error)) < 0)
                return r;
        if ((r = worker_admit(c, b->caller.uid, b->caller.role, error)) < 0)
                return r;
        b->message = sd_bus_message_ref(m);
        /* the password is the third argument, after the targets and the reason */
        r = confirm_request_joined(c, m, &b->caller, "revoke", b->label, 2, on_batch_confirmed, batch_freep, b, error);
        if (r >= 0)
                TAKE_PTR(b);
        return r;
}
