#ifndef BUTLER_POSIX_SHIM_H
#define BUTLER_POSIX_SHIM_H

// Why: syncfs(2) is a GNU extension that Swift's Glibc module does not declare (it is built
// without _GNU_SOURCE). A batch of puts makes all its staged files durable with one syncfs
// instead of one fsync per file. glibc has exported it since 2.14.
int syncfs(int fd);

static inline int butler_syncfs(int fd) {
    return syncfs(fd);
}
#endif
