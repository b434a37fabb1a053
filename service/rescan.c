/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "bus-user.h"
#include "cert.h"
#include "durable.h"
#include "filing.h"
#include "log.h"
#include "pin-file.h"
#include "rescan.h"
#include "tokens.h"
#include "util.h"
#include "worker.h"

struct Rescan {
        Context *context;
        char **modules;                 /* copies: a reload may change the config meanwhile */
        char *state_dir;
        char *pin;
        TokenScan scan;
        char (*fingerprints)[65];       /* per certificate found, computed once in the worker */
        int *removed;                   /* per certificate found: 1 taken off as revoked */
        int error;
        sd_bus_message **waiters;
        size_t n_waiters;
};

/* Each certificate found is looked up by its SHA-256, in the store and
 * against the pending removals: hash it once. */
static int fingerprint_all(Rescan *rs) {
        if (rs->scan.n_certs == 0)
                return 0;
        if (!(rs->fingerprints = calloc(rs->scan.n_certs, sizeof *rs->fingerprints)))
                return -ENOMEM;
        for (size_t i = 0; i < rs->scan.n_certs; i++)
                if (cert_fingerprint(rs->scan.certs[i].der, rs->scan.certs[i].der_len, rs->fingerprints[i]) < 0)
                        rs->fingerprints[i][0] = 0;
        return 0;
}

/* A walker of the rescan's own, let go at its end: the publisher's may be
 * busy in another thread.  (Where the publisher holds the same module, both
 * share its initialisation: see pkcs11.h.) */
static int remove_from_tokens(Rescan *rs, TokenRemoval *items, size_t n) {
        _cleanup_(token_walker_freep) TokenWalker *w = NULL;
        int r;

        if (n == 0)
                return 0;
        r = token_walker_new(rs->modules, &w);
        if (r < 0)
                return r;
        token_walker_remove(w, rs->modules, rs->pin, items, n);
        return 0;
}

/* A revoked certificate that shows up on a token again goes: the removal
 * may have failed at revocation time, or someone put it back. */
static int remove_revoked(Rescan *rs) {
        _cleanup_free_ const char **fps = NULL;
        _cleanup_free_ bool *revoked = NULL;
        _cleanup_free_ TokenRemoval *items = NULL;
        _cleanup_free_ size_t *index = NULL;
        size_t n = rs->scan.n_certs, k = 0;
        int r;

        if (n == 0)
                return 0;
        fps = calloc(n, sizeof *fps);
        revoked = calloc(n, sizeof *revoked);
        items = calloc(n, sizeof *items);
        index = calloc(n, sizeof *index);
        rs->removed = calloc(n, sizeof *rs->removed);
        if (!fps || !revoked || !items || !index || !rs->removed)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fps[i] = rs->fingerprints[i];
        if ((r = store_revoked_fingerprints(rs->state_dir, fps, n, revoked)) < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (revoked[i]) {
                        const TokenCert *t = &rs->scan.certs[i];

                        items[k] = (TokenRemoval) { .uri = t->uri, .der = t->der, .der_len = t->der_len };
                        index[k++] = i;
                }
        r = remove_from_tokens(rs, items, k);
        if (r < 0)
                return r;
        for (size_t i = 0; i < k; i++)
                rs->removed[index[i]] = items[i].result == 0;
        return 0;
}

static void walk(void *userdata) {
        Rescan *r = userdata;

        r->error = tokens_scan(r->modules, &r->scan);
        if (r->error >= 0)
                r->error = fingerprint_all(r);
        if (r->error >= 0 && remove_revoked(r) < 0)
                log_warning("rescan: revoked certificates found on tokens could not be removed");
}

static void rescan_free(Rescan *r) {
        for (size_t i = 0; i < r->n_waiters; i++)
                sd_bus_message_unref(r->waiters[i]);
        free(r->waiters);
        token_scan_done(&r->scan);
        free(r->removed);
        free(r->fingerprints);
        strv_free(r->modules);
        free(r->state_dir);
        pin_free(r->pin);
        free(r);
}

typedef struct Changed {
        char **logins;
        size_t n;
} Changed;

static int remember(Changed *ch, char *login) {
        char **n;

        for (size_t i = 0; i < ch->n; i++)
                if (strcmp(ch->logins[i], login) == 0) {
                        free(login);
                        return 0;
                }
        if (!(n = realloc(ch->logins, (ch->n + 1) * sizeof *n))) {
                free(login);
                return -ENOMEM;
        }
        ch->logins = n;
        ch->logins[ch->n++] = login;
        return 0;
}

typedef struct Gone {
        const Rescan *rescan;
        int64_t *ids;
        char **logins;
        size_t n;
} Gone;

static bool found_on_tokens(const Rescan *rs, const char *fingerprint) {
        for (size_t i = 0; i < rs->scan.n_certs; i++)
                if (strcmp(rs->fingerprints[i], fingerprint) == 0)
                        return true;
        return false;
}

static int collect_gone(int64_t cert_id, const char *login_id, const char *uri, const char *fingerprint,
                        void *userdata) {
        Gone *g = userdata;
        int64_t *ids;
        char **logins;

        /* its token was read to the end and it is not there: it is gone */
        if (!token_scan_walked(&g->rescan->scan, uri) || found_on_tokens(g->rescan, fingerprint))
                return 0;
        if (!(ids = realloc(g->ids, (g->n + 1) * sizeof *ids)))
                return -ENOMEM;
        g->ids = ids;
        if (!(logins = realloc(g->logins, (g->n + 1) * sizeof *logins)))
                return -ENOMEM;
        g->logins = logins;
        if (!(g->logins[g->n] = strdup(login_id)))
                return -ENOMEM;
        g->ids[g->n++] = cert_id;
        return 0;
}

/* Pending removals whose certificate is no longer on its token, taken off
 * before a crash that kept it from being recorded, or by hand. */
static int settle_pending(Context *c, const Rescan *rs, Changed *ch) {
        Gone g = { .rescan = rs };
        int r = store_foreach_pending_removal(c->store, collect_gone, &g);

        for (size_t i = 0; i < g.n; i++) {
                if (r >= 0 && (r = store_set_removal(c->store, g.ids[i], "removed")) >= 0) {
                        (void) store_history_add(c->store, "certrevoked", "token-removal", g.logins[i],
                                                 "removed: no longer on its token");
                        if (*g.logins[i] && remember(ch, TAKE_PTR(g.logins[i])) < 0)
                                r = -ENOMEM;
                }
                free(g.logins[i]);
        }
        free(g.ids);
        free(g.logins);
        return r;
}

/* Files what the walk found in one transaction; counts what was filed. */
static int apply(Context *c, const Rescan *rs, Changed *ch, uint32_t *ret_filed) {
        const TokenScan *scan = &rs->scan;
        uint32_t filed = 0;
        int r;

        if ((r = store_begin(c->store)) < 0)
                return r;
        for (size_t i = 0; i < scan->n_certs; i++) {
                const TokenCert *t = &scan->certs[i];
                const char *why = NULL;
                char *login = NULL;
                int changed;

                r = filing_file(c, t->der, t->der_len, t->uri, NULL, &login, &changed, &why);
                if (r == -ENOMEM || r == -EIO || r == -ENOSPC || r == -EROFS || r == -EBUSY) {
                        store_rollback(c->store);
                        return r;
                }
                if (r < 0) {
                        log_debug("rescan: %s: %s", t->uri, why);
                        continue;
                }
                filed++;
                if (rs->removed && rs->removed[i]) {
                        (void) store_mark_removed(c->store, rs->fingerprints[i]);
                        (void) store_history_add(c->store, "certrevoked", "token-removal", login, "removed at rescan");
                        log_notice("rescan: revoked certificate of %s removed from its token", login);
                        changed = 1;
                }
                if (!changed)
                        free(login);
                else if ((r = remember(ch, login)) < 0) {
                        store_rollback(c->store);
                        return r;
                }
        }
        if ((r = settle_pending(c, rs, ch)) < 0 || (r = store_commit(c->store)) < 0) {
                store_rollback(c->store);
                return r;
        }
        *ret_filed = filed;
        return 0;
}

/* What was filed is answered once it is durable. */
static void reply_filed(Context *c, sd_bus_message *call, uint32_t filed) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", filed);
        if (r >= 0)
                r = durable_reply(c, call, reply);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(call, r, "Token walk failed: %m");
}

static void finish(Rescan *rs) {
        Context *c = rs->context;
        Changed ch = {};
        uint32_t filed = 0;
        int r = rs->error;

        if (r >= 0)
                r = apply(c, rs, &ch, &filed);
        if (r >= 0)
                log_info("rescan: %zu tokens read, %zu skipped, %zu certificates found, %u filed",
                         rs->scan.n_tokens, rs->scan.n_failed, rs->scan.n_certs, filed);
        else
                log_error_errno(r, "rescan: failed: %m");
        for (size_t i = 0; i < ch.n; i++) {
                user_emit_changed(c, ch.logins[i]);
                free(ch.logins[i]);
        }
        free(ch.logins);
        (void) store_history_add(c->store, "certrevoked", "rescan", "", r >= 0 ? "ok" : "failed");
        for (size_t i = 0; i < rs->n_waiters; i++) {
                if (r >= 0)
                        reply_filed(c, rs->waiters[i], filed);
                else
                        (void) sd_bus_reply_method_errnof(rs->waiters[i], r, "Token walk failed: %m");
        }
}

static void walked(Context *c, void *userdata) {
        Rescan *rs = userdata;

        c->rescan = NULL;
        finish(rs);
        rescan_free(rs);
}

static int add_waiter(Rescan *rs, sd_bus_message *m) {
        sd_bus_message **n;

        if (!m)
                return 0;
        if (!(n = realloc(rs->waiters, (rs->n_waiters + 1) * sizeof *n)))
                return -ENOMEM;
        rs->waiters = n;
        rs->waiters[rs->n_waiters++] = sd_bus_message_ref(m);
        return 0;
}

int rescan_start(Context *c, sd_bus_message *reply_to) {
        Rescan *rs;
        int r;

        if (c->rescan)
                return add_waiter(c->rescan, reply_to);
        if (!(rs = calloc(1, sizeof *rs)))
                return -ENOMEM;
        rs->context = c;
        rs->modules = strv_copy(c->config.token_modules);
        rs->state_dir = strdup(c->config.state_directory);
        if (!rs->modules || !rs->state_dir) {
                rescan_free(rs);
                return -ENOMEM;
        }
        if (c->config.tokens_pin_file) {
                _cleanup_free_ char *error = NULL;

                r = pin_file_read(c->config.tokens_pin_file, &rs->pin, &error);
                if (r < 0)
                        log_warning_errno(r, "tokens: [Tokens] PINFile=: %s; private keys stay", error ?: strerror(-r));
        }
        if ((r = add_waiter(rs, reply_to)) < 0 || (r = worker_run(c, walk, walked, rs)) < 0) {
                rescan_free(rs);
                return r;
        }
        c->rescan = rs;
        return 0;
}
