#include "lib/loop.h"

#include <errno.h>
#include <stdlib.h>

void loop_add_source(struct loop *l, const struct loop_source *s)
{
	l->sources = xrealloc(l->sources, (l->nsources + 1) * sizeof *l->sources);
	l->sources[l->nsources++] = s;
	l->first = xrealloc(l->first, (l->nsources + 1) * sizeof *l->first);
}

void loop_after_pass(struct loop *l, bool (*fn)(void))
{
	l->after = xrealloc(l->after, (l->nafter + 1) * sizeof *l->after);
	l->after[l->nafter++] = fn;
}

int loop_timeout(const struct loop *l, int64_t now)
{
	if (l->busy)
		return 0;
	int64_t next = 0;
	for (size_t i = 0; i < l->nsources; i++) {
		int64_t d = l->sources[i]->next_deadline ? l->sources[i]->next_deadline() : 0;
		if (d && (!next || d < next))
			next = d;
	}
	if (!next)
		return -1;
	int64_t wait = next - now;
	return wait < 0 ? 0 : wait > 3600000 ? 3600000 : (int)wait;
}

/* Room for every fd the sources may add this pass. */
static void make_room(struct loop *l)
{
	size_t need = 0;
	for (size_t i = 0; i < l->nsources; i++)
		if (l->sources[i]->fill)
			need += l->sources[i]->most();
	if (need <= l->cap)
		return;
	l->cap = need * 2;
	l->fds = xrealloc(l->fds, l->cap * sizeof *l->fds);
	l->tags = xrealloc(l->tags, l->cap * sizeof *l->tags);
	l->owner = xrealloc(l->owner, l->cap * sizeof *l->owner);
}

int loop_pass(struct loop *l)
{
	make_room(l);
	int64_t now = mono_ms();
	size_t n = 0;
	size_t *first = l->first;
	for (size_t i = 0; i < l->nsources; i++) {
		const struct loop_source *s = l->sources[i];
		first[i] = n;
		if (!s->fill)
			continue;
		size_t k = s->fill(l->fds + n, l->tags + n, l->cap - n, now);
		for (size_t j = 0; j < k; j++)
			l->owner[n + j] = i;
		n += k;
	}
	first[l->nsources] = n;
	int r = poll(l->fds, n, loop_timeout(l, mono_ms()));
	int err = errno;
	for (size_t i = 0; r > 0 && i < n; i++) {
		const struct loop_source *s = l->sources[l->owner[i]];
		if (l->fds[i].revents && s->ready)
			s->ready(&l->fds[i], l->tags[i]);
	}
	for (size_t i = 0; r > 0 && i < l->nsources; i++)
		if (l->sources[i]->ready_all && first[i + 1] > first[i])
			l->sources[i]->ready_all(l->fds + first[i], first[i + 1] - first[i]);
	for (size_t i = 0; i < l->nsources; i++)
		if (l->sources[i]->fire)
			l->sources[i]->fire(mono_ms());
	bool busy = false;
	for (size_t i = 0; i < l->nafter; i++)
		busy |= l->after[i]();
	l->busy = busy;
	if (r < 0 && err == EINTR)
		r = 0;
	errno = err;
	return r;
}

void loop_free(struct loop *l)
{
	free(l->sources);
	free(l->after);
	free(l->fds);
	free(l->tags);
	free(l->owner);
	free(l->first);
	*l = (struct loop){0};
}
