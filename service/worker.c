/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>

#include "util.h"
#include "worker.h"

typedef struct Worker {
        Context *context;
        void (*work)(void *data);
        void (*done)(Context *c, void *data);
        void *data;
        pthread_t thread;
        int pipe[2];
        sd_event_source *io;
        struct Worker *next;
} Worker;

/* Those under way, so that an exit waits for them. */
static Worker *running;

static void unlink_worker(Worker *w) {
        for (Worker **p = &running; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        return;
                }
}

static void worker_free(Worker *w) {
        sd_event_source_disable_unref(w->io);
        if (w->pipe[0] >= 0)
                close(w->pipe[0]);
        if (w->pipe[1] >= 0)
                close(w->pipe[1]);
        free(w);
}

static void *thread_main(void *userdata) {
        Worker *w = userdata;
        char b = 1;

        w->work(w->data);
        /* the loop wakes on this byte; the pipe cannot be full */
        (void) !write(w->pipe[1], &b, 1);
        return NULL;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Worker *w = userdata;
        char b;

        (void) s, (void) revents;
        (void) !read(fd, &b, 1);
        pthread_join(w->thread, NULL);
        unlink_worker(w);
        w->done(w->context, w->data);
        worker_free(w);
        return 0;
}

void worker_finish_all(void) {
        while (running) {
                Worker *w = running;

                running = w->next;
                pthread_join(w->thread, NULL);
                w->done(w->context, w->data);
                worker_free(w);
        }
}

int worker_run(Context *c, void (*work)(void *data), void (*done)(Context *c, void *data), void *data) {
        Worker *w = calloc(1, sizeof *w);
        int r;

        if (!w)
                return -ENOMEM;
        *w = (Worker) { .context = c, .work = work, .done = done, .data = data, .pipe = { -1, -1 } };
        if (pipe2(w->pipe, O_CLOEXEC) < 0) {
                r = -errno;
                worker_free(w);
                return r;
        }
        if ((r = sd_event_add_io(c->event, &w->io, w->pipe[0], EPOLLIN, on_done, w)) < 0 ||
            (r = -pthread_create(&w->thread, NULL, thread_main, w)) < 0) {
                worker_free(w);
                return r;
        }
        w->next = running;
        running = w;
        return 0;
}
