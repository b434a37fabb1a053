/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PKCS#11 entry points.  One lock guards everything: the calls are
 * short (an index lookup, a copy of a few attributes), and a reload, the
 * only long one, must not run twice at once anyway. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#include "attrs.h"
#include "module.h"
#include "state.h"
#include "util.h"

/* The library's manufacturerID starts with "PKCS#11 Kit" because GnuTLS
 * reads CKA_X_DISTRUSTED only from modules whose library manufacturer does,
 * while it takes anchors (CKA_TRUSTED) from every trust-policy module.  With
 * any other name, a GnuTLS trust list built from pkcs11: URLs would trust
 * the CA and accept the certificates revoked here.  The rest of the string,
 * the description and the token say whose module it is. */
#define LIBRARY_MANUFACTURER "PKCS#11 Kit (certrevoke)"
#define MANUFACTURER "certrevoke"
#define LIBRARY_DESCRIPTION "certrevoke trust module"
#define TOKEN_MODEL "certrevoke"
#define TOKEN_SERIAL "1"

typedef enum FindMode {
        FIND_NOTHING,
        FIND_ONE,       /* the entry with the template's issuer and serial */
        FIND_SUBJECT,   /* the entries with the template's subject */
        FIND_ALL,
} FindMode;

typedef struct Find {
        TrustState *state;              /* held until the find ends */
        CK_ATTRIBUTE *tmpl;             /* a copy, the values behind it */
        CK_ULONG n_tmpl;
        FindMode mode;
        int only_kind;                  /* -1: both kinds of object */
        Entry *entry;                   /* FIND_ONE: the one */
        Entry **subject;                /* FIND_SUBJECT: the entries with the subject */
        size_t n_subject;
        size_t pos;                     /* the next object: kind, or entry * _OBJ_MAX + kind */
} Find;

typedef struct Session {
        CK_SESSION_HANDLE handle;
        Find *find;
} Session;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
        bool initialized;
        char *paths[_FILE_MAX];
        FileId seen[_FILE_MAX];         /* the files last loaded or found bad */
        bool seen_valid;
        TrustState *state;              /* the last good set, NULL before one */
        Session *sessions;
        size_t n_sessions, sessions_allocated;
} g;

/* Handles are never reused, not even across C_Finalize, so that a stale one
 * cannot name another object or session. */
static CK_OBJECT_HANDLE next_object = 1;
static CK_SESSION_HANDLE next_session = 1;

static void unlockp(pthread_mutex_t **l) {
        if (*l)
                pthread_mutex_unlock(*l);
}

#define LOCKED _cleanup_(unlockp) __attribute__((unused)) pthread_mutex_t *_held = take_lock()

static pthread_mutex_t *take_lock(void) {
        pthread_mutex_lock(&lock);
        return &lock;
}

/* A fork while another thread holds the lock would leave the child's lock
 * held for ever. */
static void fork_prepare(void) {
        pthread_mutex_lock(&lock);
}

static void fork_done(void) {
        pthread_mutex_unlock(&lock);
}

static void register_atfork(void) {
        pthread_atfork(fork_prepare, fork_done, fork_done);
}

/* Space-padded, not NUL-terminated, as PKCS#11 strings are. */
static void pad(CK_UTF8CHAR *dst, size_t size, const char *s) {
        size_t n = strlen(s);

        memset(dst, ' ', size);
        memcpy(dst, s, n < size ? n : size);
}

static CK_VERSION library_version(void) {
        unsigned major = 0, minor = 0;

        sscanf(CR_VERSION, "%u.%u", &major, &minor);
        return (CK_VERSION) { (CK_BYTE) major, (CK_BYTE) minor };
}

/* ---- the published files ---- */

static void report_bad_set(const char *why) {
        /* once per set of files: the ids are remembered */
        syslog(LOG_WARNING, "certrevoke-pkcs11: ignoring the files in %.*s: %s; %s",
               (int) (strrchr(g.paths[0], '/') - g.paths[0]), g.paths[0], why,
               g.state ? "keeping the certificates loaded before" : "showing no certificates");
}

static void reload(const FileId now[_FILE_MAX]) {
        _cleanup_(trust_files_done) TrustFiles files = {};
        TrustState *s = NULL;
        const char *why = NULL;
        int bad_file = 0, r;

        r = trust_files_read(g.paths, &files, &bad_file, &why);
        if (r < 0) {
                char what[128];

                memcpy(g.seen, now, sizeof g.seen);
                g.seen_valid = true;
                /* no files yet is the normal state before the daemon's first run */
                if (r == -ENOENT)
                        return;
                snprintf(what, sizeof what, "%s %s", trust_file_names[bad_file], why);
                report_bad_set(what);
                return;
        }
        memcpy(g.seen, files.id, sizeof g.seen);
        g.seen_valid = true;
        if (trust_state_build(&files, g.state, &next_object, &s, &why) < 0) {
                report_bad_set(why);
                return;
        }
        trust_state_unref(g.state);
        g.state = s;
}

/* Loads the files again when any of them changed since the last look. */
static void refresh(void) {
        FileId now[_FILE_MAX];

        trust_files_stat(g.paths, now);
        if (!g.seen_valid || !file_ids_equal(now, g.seen))
                reload(now);
}

static int set_paths(void) {
        const char *dir = secure_getenv(MODULE_PUBLISH_DIR_ENV);

        if (isempty(dir))
                dir = MODULE_DEFAULT_PUBLISH_DIR;
        for (int i = 0; i < _FILE_MAX; i++)
                if (asprintf(&g.paths[i], "%s/%s", dir, trust_file_names[i]) < 0) {
                        g.paths[i] = NULL;
                        return -ENOMEM;
                }
        return 0;
}

/* ---- sessions and finds ---- */

static void find_free(Find *f) {
        if (!f)
                return;
        trust_state_unref(f->state);
        free(f->subject);
        free(f->tmpl);
        free(f);
}

static Session *session_get(CK_SESSION_HANDLE h) {
        for (size_t i = 0; i < g.n_sessions; i++)
                if (g.sessions[i].handle == h)
                        return &g.sessions[i];
        return NULL;
}

/* The checks every session call starts with. */
static CK_RV session_check(CK_SESSION_HANDLE h, Session **ret) {
        if (!g.initialized)
                return CKR_CRYPTOKI_NOT_INITIALIZED;
        if (!(*ret = session_get(h)))
                return CKR_SESSION_HANDLE_INVALID;
        return CKR_OK;
}

static void session_close(Session *s) {
        find_free(s->find);
        *s = g.sessions[--g.n_sessions];
}

static void sessions_close_all(void) {
        while (g.n_sessions > 0)
                session_close(&g.sessions[0]);
}

static CK_RV slot_check(CK_SLOT_ID slot) {
        if (!g.initialized)
                return CKR_CRYPTOKI_NOT_INITIALIZED;
        return slot == MODULE_SLOT_ID ? CKR_OK : CKR_SLOT_ID_INVALID;
}

/* The object behind a handle, in the state in use now. */
static CK_RV object_get(CK_OBJECT_HANDLE h, Entry **entry, int *kind) {
        if (!g.state || !trust_state_object(g.state, h, entry, kind))
                return CKR_OBJECT_HANDLE_INVALID;
        return CKR_OK;
}

/* ---- general ---- */

static CK_RV mod_Initialize(CK_VOID_PTR init_args) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        const CK_C_INITIALIZE_ARGS *a = init_args;
        LOCKED;

        if (a) {
                int given = !!a->CreateMutex + !!a->DestroyMutex + !!a->LockMutex + !!a->UnlockMutex;

                /* all four mutex functions or none */
                if (given != 0 && given != 4)
                        return CKR_ARGUMENTS_BAD;
                /* the caller's mutexes alone are not enough: this module
                 * locks with pthreads */
                if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK))
                        return CKR_CANT_LOCK;
                /* pReserved is tolerated: NSS and p11-kit pass configuration
                 * strings there, meant for other modules */
        }
        if (g.initialized)
                return CKR_CRYPTOKI_ALREADY_INITIALIZED;
        pthread_once(&once, register_atfork);
        if (set_paths() < 0) {
                for (int i = 0; i < _FILE_MAX; i++)
                        free(TAKE_PTR(g.paths[i]));
                return CKR_HOST_MEMORY;
        }
        g.initialized = true;
        return CKR_OK;
}

static CK_RV mod_Finalize(CK_VOID_PTR reserved) {
        LOCKED;

        if (reserved)
                return CKR_ARGUMENTS_BAD;
        if (!g.initialized)
                return CKR_CRYPTOKI_NOT_INITIALIZED;
        sessions_close_all();
        free(g.sessions);
        trust_state_unref(g.state);
        for (int i = 0; i < _FILE_MAX; i++)
                free(g.paths[i]);
        memset(&g, 0, sizeof g);
        return CKR_OK;
}

static CK_RV mod_GetInfo(CK_INFO_PTR info) {
        LOCKED;

        if (!g.initialized)
                return CKR_CRYPTOKI_NOT_INITIALIZED;
        if (!info)
                return CKR_ARGUMENTS_BAD;
        *info = (CK_INFO) {
                .cryptokiVersion = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
                .libraryVersion = library_version(),
        };
        pad(info->manufacturerID, sizeof info->manufacturerID, LIBRARY_MANUFACTURER);
        pad(info->libraryDescription, sizeof info->libraryDescription, LIBRARY_DESCRIPTION);
        return CKR_OK;
}

static CK_RV mod_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

/* ---- slot and token ---- */

static CK_RV mod_GetSlotList(CK_BBOOL token_present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count) {
        LOCKED;

        (void) token_present;   /* the token is always present */
        if (!g.initialized)
                return CKR_CRYPTOKI_NOT_INITIALIZED;
        if (!count)
                return CKR_ARGUMENTS_BAD;
        refresh();
        if (list && *count < 1) {
                *count = 1;
                return CKR_BUFFER_TOO_SMALL;
        }
        if (list)
                list[0] = MODULE_SLOT_ID;
        *count = 1;
        return CKR_OK;
}

static CK_RV mod_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info) {
        LOCKED;
        CK_RV rv;

        if ((rv = slot_check(slot)) != CKR_OK)
                return rv;
        if (!info)
                return CKR_ARGUMENTS_BAD;
        *info = (CK_SLOT_INFO) {
                .flags = CKF_TOKEN_PRESENT,
                .hardwareVersion = library_version(),
                .firmwareVersion = library_version(),
        };
        pad(info->slotDescription, sizeof info->slotDescription, LIBRARY_DESCRIPTION);
        pad(info->manufacturerID, sizeof info->manufacturerID, MANUFACTURER);
        return CKR_OK;
}

static CK_RV mod_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
        LOCKED;
        CK_RV rv;

        if ((rv = slot_check(slot)) != CKR_OK)
                return rv;
        if (!info)
                return CKR_ARGUMENTS_BAD;
        *info = (CK_TOKEN_INFO) {
                .flags = CKF_WRITE_PROTECTED | CKF_TOKEN_INITIALIZED,
                .ulMaxSessionCount = CK_EFFECTIVELY_INFINITE,
                .ulSessionCount = g.n_sessions,
                .ulMaxRwSessionCount = 0,
                .ulRwSessionCount = 0,
                .ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION,
                .ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION,
                .ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION,
                .ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION,
                .hardwareVersion = library_version(),
                .firmwareVersion = library_version(),
        };
        pad(info->label, sizeof info->label, MODULE_TOKEN_LABEL);
        pad(info->manufacturerID, sizeof info->manufacturerID, MANUFACTURER);
        pad(info->model, sizeof info->model, TOKEN_MODEL);
        pad(info->serialNumber, sizeof info->serialNumber, TOKEN_SERIAL);
        /* no clock on the token: the field means nothing */
        pad(info->utcTime, sizeof info->utcTime, "");
        return CKR_OK;
}

static CK_RV mod_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count) {
        LOCKED;
        CK_RV rv;

        (void) list;
        if ((rv = slot_check(slot)) != CKR_OK)
                return rv;
        if (!count)
                return CKR_ARGUMENTS_BAD;
        *count = 0;
        return CKR_OK;
}

static CK_RV mod_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info) {
        LOCKED;
        CK_RV rv;

        (void) type;
        (void) info;
        if ((rv = slot_check(slot)) != CKR_OK)
                return rv;
        return CKR_MECHANISM_INVALID;
}

/* ---- sessions ---- */

static CK_RV mod_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                             CK_SESSION_HANDLE_PTR ret) {
        LOCKED;
        CK_RV rv;

        (void) app;
        (void) notify;
        if ((rv = slot_check(slot)) != CKR_OK)
                return rv;
        if (!ret)
                return CKR_ARGUMENTS_BAD;
        if (!(flags & CKF_SERIAL_SESSION))
                return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
        if (flags & CKF_RW_SESSION)
                return CKR_TOKEN_WRITE_PROTECTED;
        if (g.n_sessions == g.sessions_allocated) {
                size_t n = g.sessions_allocated ? g.sessions_allocated * 2 : 8;
                Session *v = realloc(g.sessions, n * sizeof *v);

                if (!v)
                        return CKR_HOST_MEMORY;
                g.sessions = v;
                g.sessions_allocated = n;
        }
        g.sessions[g.n_sessions++] = (Session) { .handle = next_session };
        *ret = next_session++;
        return CKR_OK;
}

static CK_RV mod_CloseSession(CK_SESSION_HANDLE h) {
        LOCKED;
        Session *s;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        session_close(s);
        return CKR_OK;
}

static CK_RV mod_CloseAllSessions(CK_SLOT_ID slot) {
        LOCKED;
        CK_RV rv;

        if ((rv = slot_check(slot)) != CKR_OK)
                return rv;
        sessions_close_all();
        return CKR_OK;
}

static CK_RV mod_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info) {
        LOCKED;
        Session *s;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        if (!info)
                return CKR_ARGUMENTS_BAD;
        *info = (CK_SESSION_INFO) {
                .slotID = MODULE_SLOT_ID,
                .state = CKS_RO_PUBLIC_SESSION,
                .flags = CKF_SERIAL_SESSION,
        };
        return CKR_OK;
}

static CK_RV mod_Login(CK_SESSION_HANDLE h, CK_USER_TYPE type, CK_UTF8CHAR_PTR pin, CK_ULONG len) {
        LOCKED;
        Session *s;
        CK_RV rv;

        (void) type;
        (void) pin;
        (void) len;
        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        /* no users on this token: everything on it is public */
        return CKR_USER_TYPE_INVALID;
}

static CK_RV mod_Logout(CK_SESSION_HANDLE h) {
        LOCKED;
        Session *s;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        return CKR_USER_NOT_LOGGED_IN;
}

/* ---- objects ---- */

/* The calls that would change objects: the token is write-protected. */
static CK_RV refuse_change(CK_SESSION_HANDLE h, const CK_OBJECT_HANDLE *object) {
        LOCKED;
        Session *s;
        Entry *e;
        int kind;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        if (object && (rv = object_get(*object, &e, &kind)) != CKR_OK)
                return rv;
        return CKR_TOKEN_WRITE_PROTECTED;
}

static CK_RV mod_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ret) {
        (void) tmpl;
        (void) n;
        (void) ret;
        return refuse_change(h, NULL);
}

static CK_RV mod_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
                            CK_OBJECT_HANDLE_PTR ret) {
        (void) tmpl;
        (void) n;
        (void) ret;
        return refuse_change(h, &o);
}

static CK_RV mod_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o) {
        return refuse_change(h, &o);
}

static CK_RV mod_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n) {
        (void) tmpl;
        (void) n;
        return refuse_change(h, &o);
}

static CK_RV mod_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ULONG_PTR size) {
        LOCKED;
        Session *s;
        Entry *e;
        int kind;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        if (!size)
                return CKR_ARGUMENTS_BAD;
        if ((rv = object_get(o, &e, &kind)) != CKR_OK)
                return rv;
        *size = kind == OBJ_CERT ? e->f.value.len : CK_UNAVAILABLE_INFORMATION;
        return CKR_OK;
}

/* One template entry, as PKCS#11 v2.40 5.7 C_GetAttributeValue says. */
static CK_RV get_one(Entry *e, int kind, CK_ATTRIBUTE *a) {
        Span v;
        int r;

        if ((r = object_attribute(e, kind, a->type, &v)) < 0) {
                a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
                if (r == -ENOENT)
                        return CKR_ATTRIBUTE_TYPE_INVALID;
                return r == -ENOMEM ? CKR_HOST_MEMORY : CKR_FUNCTION_FAILED;
        }
        if (!a->pValue) {
                a->ulValueLen = v.len;
                return CKR_OK;
        }
        if (a->ulValueLen < v.len) {
                a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
                return CKR_BUFFER_TOO_SMALL;
        }
        if (v.len > 0)
                memcpy(a->pValue, v.p, v.len);
        a->ulValueLen = v.len;
        return CKR_OK;
}

static CK_RV mod_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n) {
        LOCKED;
        Session *s;
        Entry *e;
        int kind;
        CK_RV rv, result = CKR_OK;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        if (!tmpl && n > 0)
                return CKR_ARGUMENTS_BAD;
        if ((rv = object_get(o, &e, &kind)) != CKR_OK)
                return rv;
        /* every entry is processed whatever the earlier ones gave; the
         * spec lets any of the errors be the one returned */
        for (CK_ULONG i = 0; i < n; i++) {
                rv = get_one(e, kind, &tmpl[i]);
                if (rv != CKR_OK && (result == CKR_OK || result == CKR_ATTRIBUTE_TYPE_INVALID ||
                                     result == CKR_BUFFER_TOO_SMALL))
                        result = rv;
        }
        return result;
}

/* ---- finding ---- */

/* Copies a template and its values into one block. */
static CK_ATTRIBUTE *template_copy(const CK_ATTRIBUTE *tmpl, CK_ULONG n) {
        size_t size = n * sizeof *tmpl;
        CK_ATTRIBUTE *c;
        uint8_t *p;

        for (CK_ULONG i = 0; i < n; i++)
                size += tmpl[i].pValue ? tmpl[i].ulValueLen : 0;
        if (!(c = malloc(size ? size : 1)))
                return NULL;
        p = (uint8_t *) (c + n);
        for (CK_ULONG i = 0; i < n; i++) {
                c[i] = tmpl[i];
                if (tmpl[i].pValue) {
                        memcpy(p, tmpl[i].pValue, tmpl[i].ulValueLen);
                        c[i].pValue = p;
                        p += tmpl[i].ulValueLen;
                }
        }
        return c;
}

static const CK_ATTRIBUTE *template_find(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_ATTRIBUTE_TYPE type) {
        for (CK_ULONG i = 0; i < n; i++)
                if (tmpl[i].type == type && tmpl[i].pValue)
                        return &tmpl[i];
        return NULL;
}

static Span attr_span(const CK_ATTRIBUTE *a) {
        return (Span) { a->pValue, a->ulValueLen };
}

/* Picks the smallest set of candidates the template allows: the class
 * narrows to one kind of object, issuer and serial to one entry, a subject
 * to its entries; only templates with none of these walk everything. */
static CK_RV find_plan(Find *f) {
        const CK_ATTRIBUTE *cls = template_find(f->tmpl, f->n_tmpl, CKA_CLASS);
        const CK_ATTRIBUTE *issuer = template_find(f->tmpl, f->n_tmpl, CKA_ISSUER);
        const CK_ATTRIBUTE *serial = template_find(f->tmpl, f->n_tmpl, CKA_SERIAL_NUMBER);
        const CK_ATTRIBUTE *subject = template_find(f->tmpl, f->n_tmpl, CKA_SUBJECT);

        f->only_kind = -1;
        f->mode = FIND_NOTHING;
        if (!f->state)
                return CKR_OK;
        if (cls) {
                CK_OBJECT_CLASS c;

                if (cls->ulValueLen != sizeof c)
                        return CKR_OK;
                memcpy(&c, cls->pValue, sizeof c);
                for (int k = 0; k < _OBJ_MAX; k++)
                        if (c == object_class(k))
                                f->only_kind = k;
                if (f->only_kind < 0)
                        return CKR_OK;
        }
        if (issuer && serial) {
                f->entry = trust_state_lookup(f->state, attr_span(issuer), attr_span(serial));
                f->mode = f->entry ? FIND_ONE : FIND_NOTHING;
        } else if (subject) {
                if (trust_state_by_subject(f->state, attr_span(subject), &f->subject, &f->n_subject) < 0)
                        return CKR_HOST_MEMORY;
                f->mode = FIND_SUBJECT;
        } else {
                /* the only walk over every certificate: each becomes an entry */
                if (trust_state_reach_all(f->state) < 0)
                        return CKR_HOST_MEMORY;
                f->mode = FIND_ALL;
        }
        return CKR_OK;
}

/* The next candidate object, matching or not; false at the end. */
static bool find_step(Find *f, Entry **e, int *kind) {
        const TrustState *s = f->state;

        switch (f->mode) {
        case FIND_ONE:
                if (f->pos >= _OBJ_MAX)
                        return false;
                *e = f->entry;
                *kind = (int) f->pos++;
                return true;
        case FIND_SUBJECT:
                if (f->pos >= f->n_subject * _OBJ_MAX)
                        return false;
                *e = f->subject[f->pos / _OBJ_MAX];
                *kind = (int) (f->pos % _OBJ_MAX);
                f->pos++;
                return true;
        case FIND_ALL:
                if (f->pos >= s->n_entries * _OBJ_MAX)
                        return false;
                *e = s->entries[f->pos / _OBJ_MAX];
                *kind = (int) (f->pos % _OBJ_MAX);
                f->pos++;
                return true;
        default:
                return false;
        }
}

static bool find_next(Find *f, Entry **e, int *kind) {
        while (find_step(f, e, kind))
                if ((f->only_kind < 0 || *kind == f->only_kind) && object_matches(*e, *kind, f->tmpl, f->n_tmpl))
                        return true;
        return false;
}

static CK_RV mod_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n) {
        LOCKED;
        Session *s;
        Find *f;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        if (!tmpl && n > 0)
                return CKR_ARGUMENTS_BAD;
        if (s->find)
                return CKR_OPERATION_ACTIVE;
        refresh();
        if (!(f = calloc(1, sizeof *f)))
                return CKR_HOST_MEMORY;
        if (!(f->tmpl = template_copy(tmpl, n))) {
                free(f);
                return CKR_HOST_MEMORY;
        }
        f->n_tmpl = n;
        f->state = g.state ? trust_state_ref(g.state) : NULL;
        if ((rv = find_plan(f)) != CKR_OK) {
                find_free(f);
                return rv;
        }
        s->find = f;
        return CKR_OK;
}

static CK_RV mod_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR count) {
        LOCKED;
        Session *s;
        Entry *e;
        int kind;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        if (!count || (!out && max > 0))
                return CKR_ARGUMENTS_BAD;
        if (!s->find)
                return CKR_OPERATION_NOT_INITIALIZED;
        *count = 0;
        while (*count < max && find_next(s->find, &e, &kind))
                out[(*count)++] = e->handle[kind];
        return CKR_OK;
}

static CK_RV mod_FindObjectsFinal(CK_SESSION_HANDLE h) {
        LOCKED;
        Session *s;
        CK_RV rv;

        if ((rv = session_check(h, &s)) != CKR_OK)
                return rv;
        if (!s->find)
                return CKR_OPERATION_NOT_INITIALIZED;
        find_free(TAKE_PTR(s->find));
        return CKR_OK;
}

/* ---- what a read-only token of certificates does not do ---- */

static CK_RV mod_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved) {
        (void) flags;
        (void) slot;
        (void) reserved;
        return CKR_FUNCTION_NOT_SUPPORTED;
}

/* Legacy calls of PKCS#11 v2.0 that the spec answers this way. */
static CK_RV mod_GetFunctionStatus(CK_SESSION_HANDLE h) {
        (void) h;
        return CKR_FUNCTION_NOT_PARALLEL;
}

static CK_RV mod_CancelFunction(CK_SESSION_HANDLE h) {
        (void) h;
        return CKR_FUNCTION_NOT_PARALLEL;
}

/* The rest take parameters they never look at. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define NOT_SUPPORTED(name, ...) \
        static CK_RV mod_##name(__VA_ARGS__) { return CKR_FUNCTION_NOT_SUPPORTED; }

typedef CK_SESSION_HANDLE SH;
typedef CK_BYTE_PTR BP;
typedef CK_ULONG_PTR LP;
typedef CK_MECHANISM_PTR MP;
typedef CK_OBJECT_HANDLE OH;

NOT_SUPPORTED(InitToken, CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG len, CK_UTF8CHAR_PTR label)
NOT_SUPPORTED(InitPIN, SH h, CK_UTF8CHAR_PTR pin, CK_ULONG len)
NOT_SUPPORTED(SetPIN, SH h, CK_UTF8CHAR_PTR old, CK_ULONG old_len, CK_UTF8CHAR_PTR new, CK_ULONG new_len)
NOT_SUPPORTED(GetOperationState, SH h, BP state, LP len)
NOT_SUPPORTED(SetOperationState, SH h, BP state, CK_ULONG len, OH enc, OH auth)
NOT_SUPPORTED(EncryptInit, SH h, MP m, OH key)
NOT_SUPPORTED(Encrypt, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(EncryptUpdate, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(EncryptFinal, SH h, BP out, LP out_len)
NOT_SUPPORTED(DecryptInit, SH h, MP m, OH key)
NOT_SUPPORTED(Decrypt, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(DecryptUpdate, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(DecryptFinal, SH h, BP out, LP out_len)
NOT_SUPPORTED(DigestInit, SH h, MP m)
NOT_SUPPORTED(Digest, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(DigestUpdate, SH h, BP in, CK_ULONG in_len)
NOT_SUPPORTED(DigestKey, SH h, OH key)
NOT_SUPPORTED(DigestFinal, SH h, BP out, LP out_len)
NOT_SUPPORTED(SignInit, SH h, MP m, OH key)
NOT_SUPPORTED(Sign, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(SignUpdate, SH h, BP in, CK_ULONG in_len)
NOT_SUPPORTED(SignFinal, SH h, BP out, LP out_len)
NOT_SUPPORTED(SignRecoverInit, SH h, MP m, OH key)
NOT_SUPPORTED(SignRecover, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(VerifyInit, SH h, MP m, OH key)
NOT_SUPPORTED(Verify, SH h, BP in, CK_ULONG in_len, BP sig, CK_ULONG sig_len)
NOT_SUPPORTED(VerifyUpdate, SH h, BP in, CK_ULONG in_len)
NOT_SUPPORTED(VerifyFinal, SH h, BP sig, CK_ULONG sig_len)
NOT_SUPPORTED(VerifyRecoverInit, SH h, MP m, OH key)
NOT_SUPPORTED(VerifyRecover, SH h, BP sig, CK_ULONG sig_len, BP out, LP out_len)
NOT_SUPPORTED(DigestEncryptUpdate, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(DecryptDigestUpdate, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(SignEncryptUpdate, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(DecryptVerifyUpdate, SH h, BP in, CK_ULONG in_len, BP out, LP out_len)
NOT_SUPPORTED(GenerateKey, SH h, MP m, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR key)
NOT_SUPPORTED(GenerateKeyPair, SH h, MP m, CK_ATTRIBUTE_PTR pt, CK_ULONG pn, CK_ATTRIBUTE_PTR st, CK_ULONG sn,
              CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
NOT_SUPPORTED(WrapKey, SH h, MP m, OH wrapping, OH key, BP out, LP out_len)
NOT_SUPPORTED(UnwrapKey, SH h, MP m, OH unwrapping, BP in, CK_ULONG in_len, CK_ATTRIBUTE_PTR t, CK_ULONG n,
              CK_OBJECT_HANDLE_PTR key)
NOT_SUPPORTED(DeriveKey, SH h, MP m, OH base, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR key)
NOT_SUPPORTED(SeedRandom, SH h, BP seed, CK_ULONG len)
NOT_SUPPORTED(GenerateRandom, SH h, BP out, CK_ULONG len)
#pragma GCC diagnostic pop

static CK_FUNCTION_LIST function_list = {
        .version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
#define F(name) .C_##name = mod_##name
        F(Initialize), F(Finalize), F(GetInfo), F(GetFunctionList),
        F(GetSlotList), F(GetSlotInfo), F(GetTokenInfo), F(GetMechanismList), F(GetMechanismInfo),
        F(InitToken), F(InitPIN), F(SetPIN),
        F(OpenSession), F(CloseSession), F(CloseAllSessions), F(GetSessionInfo),
        F(GetOperationState), F(SetOperationState), F(Login), F(Logout),
        F(CreateObject), F(CopyObject), F(DestroyObject), F(GetObjectSize),
        F(GetAttributeValue), F(SetAttributeValue),
        F(FindObjectsInit), F(FindObjects), F(FindObjectsFinal),
        F(EncryptInit), F(Encrypt), F(EncryptUpdate), F(EncryptFinal),
        F(DecryptInit), F(Decrypt), F(DecryptUpdate), F(DecryptFinal),
        F(DigestInit), F(Digest), F(DigestUpdate), F(DigestKey), F(DigestFinal),
        F(SignInit), F(Sign), F(SignUpdate), F(SignFinal), F(SignRecoverInit), F(SignRecover),
        F(VerifyInit), F(Verify), F(VerifyUpdate), F(VerifyFinal), F(VerifyRecoverInit), F(VerifyRecover),
        F(DigestEncryptUpdate), F(DecryptDigestUpdate), F(SignEncryptUpdate), F(DecryptVerifyUpdate),
        F(GenerateKey), F(GenerateKeyPair), F(WrapKey), F(UnwrapKey), F(DeriveKey),
        F(SeedRandom), F(GenerateRandom), F(GetFunctionStatus), F(CancelFunction), F(WaitForSlotEvent),
#undef F
};

static CK_RV mod_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
        if (!list)
                return CKR_ARGUMENTS_BAD;
        *list = &function_list;
        return CKR_OK;
}

/* The module's one exported symbol. */
__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
        return mod_GetFunctionList(list);
}
