/*
 * Native layer of @vhost-user/transport: what Node cannot do by itself for vhost-user.
 * Unix stream sockets, sendmsg/recvmsg with SCM_RIGHTS, memfd, eventfd, mmap (also MAP_FIXED
 * into a WebAssembly.Memory, with a SIGBUS guard over those ranges), fstat, close, block I/O
 * batches on libuv's thread pool, and fd readiness through libuv's uv_poll so the event loop
 * never blocks. Every fd is created non-blocking and close-on-exec.
 * Errors are JS Errors whose `code` is the errno name (EAGAIN, ECONNREFUSED, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#define MAX_FDS 32 /* more than any vhost-user message may carry; extra fds are counted, then closed */

/* ---------- errors and argument helpers ---------- */

static napi_value throw_code(napi_env env, const char *code, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, code);
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
  const char *name = strerrorname_np(err);
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, strerror(err), name ? name : "?");
  napi_value code_v, msg_v, error;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msg_v);
  napi_create_error(env, code_v, msg_v, &error);
  napi_value errno_v;
  napi_create_int32(env, err, &errno_v);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_value syscall_v;
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &syscall_v);
  napi_set_named_property(env, error, "syscall", syscall_v);
  napi_throw(env, error);
  return NULL;
}

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) return throw_code(env, "EINVAL", #call);   \
  } while (0)

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return 0;
}

static int get_int(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_bigint) {
    bool lossless;
    return napi_get_value_bigint_int64(env, v, out, &lossless) == napi_ok && lossless ? 0 : -1;
  }
  if (t != napi_number) return -1;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return -1;
  if (d != d || d < -9007199254740991.0 || d > 9007199254740991.0 || (double)(int64_t)d != d) return -1;
  *out = (int64_t)d;
  return 0;
}

static int get_fd(napi_env env, napi_value v, int *fd) {
  int64_t x;
  if (get_int(env, v, &x) != 0 || x < 0 || x > INT_MAX) return -1;
  *fd = (int)x;
  return 0;
}

static napi_value make_int(napi_env env, int64_t x) {
  napi_value v;
  napi_create_int64(env, x, &v);
  return v;
}

/* Bytes of a Uint8Array (or other typed array / Buffer), also over a SharedArrayBuffer. */
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_ta;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return -1;
  napi_typedarray_type type;
  size_t count, offset;
  napi_value ab;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, &count, &ptr, &ab, &offset) != napi_ok) return -1;
  size_t elem = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
  }
  *data = ptr;
  *len = count * elem;
  return 0;
}

/* ---------- sockets ---------- */

static int fill_addr(struct sockaddr_un *addr, const char *path) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr->sun_path) return -1;
  strcpy(addr->sun_path, path);
  return 0;
}

static int get_path(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) return -1;
  return len + 1 >= cap ? -1 : 0;
}

/* connect(path): a connected non-blocking stream socket. A Unix connect either succeeds or fails
 * at once (EAGAIN when the listener's backlog is full). */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  struct sockaddr_un addr;
  if (get_path(env, argv[0], path, sizeof path) != 0 || fill_addr(&addr, path) != 0) return throw_code(env, "ENAMETOOLONG", "connect");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect");
  }
  return make_int(env, fd);
}

/* listen(path, backlog): a listening socket bound at path (the caller removes stale files). */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  CHECK(get_args(env, info, 2, argv) == 0 ? napi_ok : napi_invalid_arg);
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  struct sockaddr_un addr;
  if (get_path(env, argv[0], path, sizeof path) != 0 || fill_addr(&addr, path) != 0) return throw_code(env, "ENAMETOOLONG", "listen");
  int64_t backlog = 16;
  get_int(env, argv[1], &backlog);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, (int)backlog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind/listen");
  }
  return make_int(env, fd);
}

/* accept(fd): a connected fd, or -1 when no connection is waiting (EAGAIN). */
static napi_value js_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "accept");
  int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return make_int(env, -1);
    return throw_errno(env, errno, "accept");
  }
  return make_int(env, c);
}

/* socketpair(): two connected non-blocking stream sockets (the back-end channel). */
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return throw_errno(env, errno, "socketpair");
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, make_int(env, sv[0]));
  napi_set_element(env, arr, 1, make_int(env, sv[1]));
  return arr;
}

/* sendmsg(fd, bytes, fds): bytes written (possibly fewer than asked), -1 on EAGAIN. The fds
 * ride with the first byte; the caller keeps owning them. */
static napi_value js_sendmsg(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  uint8_t *data;
  size_t len;
  CHECK(get_args(env, info, 3, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "sendmsg");
  if (get_bytes(env, argv[1], &data, &len) != 0) return throw_code(env, "EINVAL", "sendmsg: bytes must be a typed array");
  int fds[MAX_FDS];
  uint32_t nfds = 0;
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  if (is_array) {
    napi_get_array_length(env, argv[2], &nfds);
    if (nfds > MAX_FDS) return throw_code(env, "E2BIG", "sendmsg: too many fds");
    for (uint32_t i = 0; i < nfds; i++) {
      napi_value e;
      napi_get_element(env, argv[2], i, &e);
      if (get_fd(env, e, &fds[i]) != 0) return throw_code(env, "EBADF", "sendmsg: bad fd in list");
    }
  }
  struct iovec iov = {.iov_base = data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return make_int(env, -1);
    return throw_errno(env, errno, "sendmsg");
  }
  return make_int(env, n);
}

/* recvmsg(fd, buffer): null when nothing is ready (EAGAIN), else { bytes, fds, truncatedFds }.
 * bytes 0 means the peer closed. Received fds are close-on-exec and owned by the caller. */
static napi_value js_recvmsg(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  uint8_t *data;
  size_t len;
  CHECK(get_args(env, info, 2, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "recvmsg");
  if (get_bytes(env, argv[1], &data, &len) != 0) return throw_code(env, "EINVAL", "recvmsg: buffer must be a typed array");
  struct iovec iov = {.iov_base = data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_value nul;
      napi_get_null(env, &nul);
      return nul;
    }
    return throw_errno(env, errno, "recvmsg");
  }
  napi_value result, fd_arr;
  napi_create_object(env, &result);
  napi_create_array(env, &fd_arr);
  uint32_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int got[MAX_FDS];
    if (k > MAX_FDS) k = MAX_FDS;
    memcpy(got, CMSG_DATA(c), k * sizeof(int));
    for (size_t i = 0; i < k; i++) napi_set_element(env, fd_arr, count++, make_int(env, got[i]));
  }
  napi_set_named_property(env, result, "bytes", make_int(env, n));
  napi_set_named_property(env, result, "fds", fd_arr);
  napi_value trunc;
  napi_get_boolean(env, (msg.msg_flags & MSG_CTRUNC) != 0, &trunc);
  napi_set_named_property(env, result, "truncatedFds", trunc);
  return result;
}

/* ---------- memfd, eventfd, fstat, close ---------- */

static napi_value js_memfd_create(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char name[64];
  int64_t size;
  CHECK(get_args(env, info, 2, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_path(env, argv[0], name, sizeof name) != 0) return throw_code(env, "ENAMETOOLONG", "memfd_create");
  if (get_int(env, argv[1], &size) != 0 || size < 0) return throw_code(env, "EINVAL", "memfd_create: bad size");
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return throw_errno(env, errno, "memfd_create");
  if (ftruncate(fd, (off_t)size) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ftruncate");
  }
  return make_int(env, fd);
}

static napi_value js_ftruncate(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int64_t size;
  CHECK(get_args(env, info, 2, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "ftruncate");
  if (get_int(env, argv[1], &size) != 0 || size < 0) return throw_code(env, "EINVAL", "ftruncate: bad size");
  if (ftruncate(fd, (off_t)size) != 0) return throw_errno(env, errno, "ftruncate");
  return NULL;
}

static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t initval = 0;
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  get_int(env, argv[0], &initval);
  int fd = eventfd((unsigned)initval, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "eventfd");
  return make_int(env, fd);
}

/* eventfdRead(fd): the counter (bigint), reset to 0; null when it was 0 (EAGAIN). */
static napi_value js_eventfd_read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "eventfd read");
  uint64_t value;
  ssize_t n;
  do n = read(fd, &value, sizeof value);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) {
      napi_value nul;
      napi_get_null(env, &nul);
      return nul;
    }
    return throw_errno(env, errno, "eventfd read");
  }
  if (n != sizeof value) return throw_code(env, "EIO", "eventfd read: short read");
  napi_value v;
  napi_create_bigint_uint64(env, value, &v);
  return v;
}

/* eventfdWrite(fd, n = 1): adds n to the counter; false when it would overflow (EAGAIN). */
static napi_value js_eventfd_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int64_t add = 1;
  CHECK(get_args(env, info, 2, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "eventfd write");
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t != napi_undefined && (get_int(env, argv[1], &add) != 0 || add <= 0)) return throw_code(env, "EINVAL", "eventfd write: bad value");
  uint64_t value = (uint64_t)add;
  ssize_t n;
  do n = write(fd, &value, sizeof value);
  while (n < 0 && errno == EINTR);
  napi_value ok;
  if (n < 0) {
    if (errno != EAGAIN) return throw_errno(env, errno, "eventfd write");
    napi_get_boolean(env, false, &ok);
    return ok;
  }
  napi_get_boolean(env, true, &ok);
  return ok;
}

static napi_value js_fstat_size(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "fstat");
  struct stat st;
  if (fstat(fd, &st) != 0) return throw_errno(env, errno, "fstat");
  return make_int(env, (int64_t)st.st_size);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "close");
  /* Linux always releases the fd, even when close reports EINTR: never retry. */
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close");
  return NULL;
}

/* dup(fd): a close-on-exec copy (used to hand one fd to two owners). */
static napi_value js_dup(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "dup");
  int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (c < 0) return throw_errno(env, errno, "dup");
  return make_int(env, c);
}

/* ---------- mmap ---------- */

static long page_size(void) {
  static long ps = 0;
  if (ps == 0) ps = sysconf(_SC_PAGESIZE);
  return ps;
}

/* Refuses a range [offset, offset+length) of fd that the file does not fully back: touching a
 * mapped page past the file's end would kill the process with SIGBUS. */
static int check_backed(napi_env env, int fd, int64_t offset, int64_t length) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    throw_errno(env, errno, "fstat");
    return -1;
  }
  /* The last page may be partly past the end (no SIGBUS inside a page the file touches). */
  int64_t ps = page_size();
  int64_t backed = offset <= (int64_t)st.st_size ? ((int64_t)st.st_size - offset + ps - 1) / ps * ps : -1;
  if (offset < 0 || length <= 0 || backed < 0 || length > backed) {
    char what[160];
    snprintf(what, sizeof what, "mmap: range %lld+%lld is not backed by the file (size %lld)", (long long)offset, (long long)length, (long long)st.st_size);
    throw_code(env, "EOVERFLOW", what);
    return -1;
  }
  return 0;
}

struct mapping {
  void *addr;
  size_t length;
};

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  struct mapping *m = hint;
  if (m->addr) munmap(m->addr, m->length);
  free(m);
}

/* mmap(fd, offset, length, writable): an ArrayBuffer over the mapping (MAP_SHARED). It is
 * unmapped by munmap(buffer) (which detaches it) or when collected. */
static napi_value js_mmap(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  int64_t offset, length;
  bool writable = true;
  CHECK(get_args(env, info, 4, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "mmap");
  if (get_int(env, argv[1], &offset) != 0 || get_int(env, argv[2], &length) != 0) return throw_code(env, "EINVAL", "mmap: bad range");
  napi_get_value_bool(env, argv[3], &writable);
  if (offset % page_size() != 0) return throw_code(env, "EINVAL", "mmap: offset is not page-aligned");
  if (check_backed(env, fd, offset, length) != 0) return NULL;
  void *addr = mmap(NULL, (size_t)length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, (off_t)offset);
  if (addr == MAP_FAILED) return throw_errno(env, errno, "mmap");
  struct mapping *m = malloc(sizeof *m);
  if (!m) {
    munmap(addr, (size_t)length);
    return throw_code(env, "ENOMEM", "mmap");
  }
  m->addr = addr;
  m->length = (size_t)length;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, addr, (size_t)length, finalize_mapping, m, &ab) != napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    return throw_code(env, "EINVAL", "mmap: external buffers are not allowed here");
  }
  napi_wrap(env, ab, m, NULL, NULL, NULL); /* lets munmap() find the record */
  return ab;
}

static napi_value js_munmap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  struct mapping *m = NULL;
  if (napi_unwrap(env, argv[0], (void **)&m) != napi_ok || !m) return throw_code(env, "EINVAL", "munmap: not a mapping from mmap()");
  if (!m->addr) return NULL;
  /* Detach first so no JS view can touch the pages once they are gone. */
  if (napi_detach_arraybuffer(env, argv[0]) != napi_ok) return throw_code(env, "EINVAL", "munmap: cannot detach");
  munmap(m->addr, m->length);
  m->addr = NULL;
  return NULL;
}

/* Validates [memOffset, memOffset+length) inside the memory the view covers; page-aligned. */
static int target_range(napi_env env, napi_value view, int64_t mem_offset, int64_t length, uint8_t **base) {
  uint8_t *data;
  size_t len;
  const char *problem = NULL, *code = "EINVAL";
  long ps = page_size();
  if (get_bytes(env, view, &data, &len) != 0) problem = "memory must be a Uint8Array over the WebAssembly.Memory buffer";
  else if (((uintptr_t)data % ps) != 0) problem = "memory view does not start on a page";
  else if (mem_offset < 0 || length <= 0 || mem_offset % ps != 0 || length % ps != 0) problem = "range must be page-aligned and non-empty";
  else if ((uint64_t)mem_offset > len || (uint64_t)length > len - (uint64_t)mem_offset) {
    problem = "range goes past the memory's byteLength";
    code = "ERANGE";
  }
  if (problem) {
    throw_code(env, code, problem);
    return -1;
  }
  *base = data;
  return 0;
}

/* ---------- fault guard: a peer that shrinks its file costs a session, not the process ----------
 * A file mapped with mapInto may be truncated by its owner afterwards; touching a page past the
 * new end raises SIGBUS. Every mapInto range is registered here; the SIGBUS handler puts a
 * private zero page over a faulting page inside a registered range (so the access completes,
 * reading zeros) and counts the fault on that range. The owner polls guardFaults() and turns a
 * count that moved into an error for the one session whose memory it is. A SIGBUS anywhere else
 * keeps its previous meaning. */

#define MAX_GUARDS 8192

struct guard {
  _Atomic uintptr_t start; /* 0: free slot */
  _Atomic uintptr_t end;
  _Atomic uint64_t faults;
};

static struct guard guards[MAX_GUARDS];
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous_sigbus;
static int sigbus_installed;
static uintptr_t guard_page_mask;

static void on_sigbus(int sig, siginfo_t *si, void *context) {
  uintptr_t at = (uintptr_t)si->si_addr;
  for (int i = 0; i < MAX_GUARDS; i++) {
    uintptr_t start = atomic_load(&guards[i].start);
    if (start == 0 || at < start || at >= atomic_load(&guards[i].end)) continue;
    void *page = (void *)(at & guard_page_mask);
    if (mmap(page, ~guard_page_mask + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) break;
    atomic_fetch_add(&guards[i].faults, 1);
    return;
  }
  if ((previous_sigbus.sa_flags & SA_SIGINFO) && previous_sigbus.sa_sigaction) {
    previous_sigbus.sa_sigaction(sig, si, context);
  } else if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN) {
    previous_sigbus.sa_handler(sig);
  } else {
    /* Not ours: the default action runs when the faulting instruction is retried. */
    signal(SIGBUS, SIG_DFL);
  }
}

static int guard_add(void *addr, size_t length) {
  pthread_mutex_lock(&guard_lock);
  if (!sigbus_installed) {
    guard_page_mask = ~((uintptr_t)page_size() - 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, &previous_sigbus) == 0) sigbus_installed = 1;
  }
  int slot = -1;
  for (int i = 0; i < MAX_GUARDS && slot < 0; i++)
    if (atomic_load(&guards[i].start) == 0) slot = i;
  if (slot >= 0) {
    atomic_store(&guards[slot].faults, 0);
    atomic_store(&guards[slot].end, (uintptr_t)addr + length);
    atomic_store(&guards[slot].start, (uintptr_t)addr);
  }
  pthread_mutex_unlock(&guard_lock);
  return slot >= 0 && sigbus_installed ? 0 : -1;
}

/* Forgets the guards of ranges that start inside [addr, addr+length). */
static void guard_remove(void *addr, size_t length) {
  uintptr_t from = (uintptr_t)addr, to = from + length;
  pthread_mutex_lock(&guard_lock);
  for (int i = 0; i < MAX_GUARDS; i++) {
    uintptr_t start = atomic_load(&guards[i].start);
    if (start != 0 && start >= from && start < to) atomic_store(&guards[i].start, 0);
  }
  pthread_mutex_unlock(&guard_lock);
}

/* guardFaults(memoryView): faults contained so far in the ranges mapped into this memory. */
static napi_value js_guard_faults(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  uint8_t *data;
  size_t len;
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_bytes(env, argv[0], &data, &len) != 0) return throw_code(env, "EINVAL", "guardFaults: memory must be a Uint8Array");
  uint64_t total = 0;
  uintptr_t from = (uintptr_t)data, to = from + len;
  for (int i = 0; i < MAX_GUARDS; i++) {
    uintptr_t start = atomic_load(&guards[i].start);
    if (start != 0 && start >= from && start < to) total += atomic_load(&guards[i].faults);
  }
  return make_int(env, (int64_t)total);
}

/* mapInto(memoryView, memOffset, length, fd, fileOffset, writable): places the file range over
 * the memory's pages in place (MAP_SHARED|MAP_FIXED); wasm and JS views then see the file. */
static napi_value js_map_into(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t mem_offset, length, file_offset;
  int fd;
  bool writable = true;
  CHECK(get_args(env, info, 6, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_int(env, argv[1], &mem_offset) != 0 || get_int(env, argv[2], &length) != 0 || get_int(env, argv[4], &file_offset) != 0) return throw_code(env, "EINVAL", "mapInto: bad numbers");
  if (get_fd(env, argv[3], &fd) != 0) return throw_code(env, "EBADF", "mapInto");
  napi_valuetype t;
  napi_typeof(env, argv[5], &t);
  if (t == napi_boolean) napi_get_value_bool(env, argv[5], &writable);
  uint8_t *base;
  if (target_range(env, argv[0], mem_offset, length, &base) != 0) return NULL;
  if (file_offset % page_size() != 0) return throw_code(env, "EINVAL", "mapInto: file offset is not page-aligned");
  if (check_backed(env, fd, file_offset, length) != 0) return NULL;
  void *want = base + mem_offset;
  void *got = mmap(want, (size_t)length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED, fd, (off_t)file_offset);
  if (got == MAP_FAILED) return throw_errno(env, errno, "mmap(MAP_FIXED)");
  guard_remove(got, (size_t)length);
  if (guard_add(got, (size_t)length) != 0) {
    mmap(got, (size_t)length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return throw_code(env, "ENOSPC", "mapInto: no fault guard left for this range");
  }
  return NULL;
}

/* unmapFrom(memoryView, memOffset, length): puts fresh zeroed anonymous pages back. */
static napi_value js_unmap_from(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t mem_offset, length;
  CHECK(get_args(env, info, 3, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_int(env, argv[1], &mem_offset) != 0 || get_int(env, argv[2], &length) != 0) return throw_code(env, "EINVAL", "unmapFrom: bad numbers");
  uint8_t *base;
  if (target_range(env, argv[0], mem_offset, length, &base) != 0) return NULL;
  void *got = mmap(base + mem_offset, (size_t)length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (got == MAP_FAILED) return throw_errno(env, errno, "mmap(MAP_ANONYMOUS|MAP_FIXED)");
  guard_remove(got, (size_t)length);
  return NULL;
}


/* ---------- block I/O off the event loop, one thread-pool job per batch ----------
 * ioBatch(memory, fd, ops, callback): `ops` (Float64Array) holds operations back to back:
 * kind (0 read, 1 write, 2 fsync), file position, segment count, then offset and length in
 * `memory` of each segment. On libuv's thread pool each read or write is one preadv / pwritev
 * (repeated while it makes progress), straight between the file and guest memory. `callback`
 * receives a Float64Array with, per operation, the bytes moved (0 for fsync) or -errno. */

#define IO_MAX_SEGMENTS 1024

struct io_batch {
  napi_async_work work;
  napi_ref memory_ref;
  napi_ref ops_ref;
  napi_ref callback;
  uint8_t *base;
  size_t size;
  int fd;
  double *ops;
  size_t op_words;
  double *results;
  size_t count;
  /* Reads with RWF_NOWAIT: served from the page cache or not at all (never blocks). */
  int nowait;
};

static int64_t io_one(struct io_batch *b, size_t *at) {
  double *o = b->ops;
  if (*at + 3 > b->op_words) return -EINVAL;
  int kind = (int)o[*at];
  off_t position = (off_t)o[*at + 1];
  size_t segments = (size_t)o[*at + 2];
  size_t first = *at + 3;
  *at = first + 2 * segments;
  if (*at > b->op_words || segments > IO_MAX_SEGMENTS) return -EINVAL;
  if (kind == 2) return fsync(b->fd) == 0 ? 0 : -errno;
  struct iovec iov[IO_MAX_SEGMENTS];
  int64_t total = 0;
  for (size_t i = 0; i < segments; i++) {
    double off = o[first + 2 * i], len = o[first + 2 * i + 1];
    if (off < 0 || len < 0 || off + len > (double)b->size) return -EFAULT;
    iov[i].iov_base = b->base + (size_t)off;
    iov[i].iov_len = (size_t)len;
    total += (int64_t)len;
  }
  int64_t done = 0;
  struct iovec *v = iov;
  int n = (int)segments;
  while (done < total && n > 0) {
    ssize_t r = kind == 0 ? preadv2(b->fd, v, n, position + done, b->nowait ? RWF_NOWAIT : 0)
                          : pwritev(b->fd, v, n, position + done);
    if (r < 0 && b->nowait) return -EAGAIN; /* not cached (or NOWAIT unsupported): the pool reads it */
    if (r >= 0 && b->nowait && r < (ssize_t)(total - done)) return -EAGAIN; /* partly cached */
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) break; /* end of file: a short transfer */
    done += r;
    while (n > 0 && (size_t)r >= v->iov_len) {
      r -= (ssize_t)v->iov_len;
      v++;
      n--;
    }
    if (n > 0) {
      v->iov_base = (uint8_t *)v->iov_base + r;
      v->iov_len -= (size_t)r;
    }
  }
  return done;
}

static void io_execute(napi_env env, void *data) {
  (void)env;
  struct io_batch *b = data;
  size_t at = 0;
  for (size_t i = 0; i < b->count; i++) b->results[i] = (double)io_one(b, &at);
}

static void io_complete(napi_env env, napi_status status, void *data) {
  struct io_batch *b = data;
  napi_value callback, global, results, buffer;
  void *out;
  napi_create_arraybuffer(env, b->count * sizeof(double), &out, &buffer);
  memcpy(out, b->results, b->count * sizeof(double));
  napi_create_typedarray(env, napi_float64_array, b->count, buffer, 0, &results);
  napi_get_reference_value(env, b->callback, &callback);
  napi_get_global(env, &global);
  if (status == napi_ok) napi_call_function(env, global, callback, 1, &results, NULL);
  napi_delete_reference(env, b->callback);
  napi_delete_reference(env, b->memory_ref);
  napi_delete_reference(env, b->ops_ref);
  napi_delete_async_work(env, b->work);
  free(b->results);
  free(b);
}

/* ioTryRead(memory, fd, ops): the reads of `ops` that the page cache holds, done now on the
 * calling thread without blocking (preadv2 RWF_NOWAIT). Returns per operation the bytes read,
 * or -EAGAIN for those (and every non-read) left to ioBatch. */
static napi_value js_io_try_read(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  CHECK(get_args(env, info, 3, argv) == 0 ? napi_ok : napi_invalid_arg);
  struct io_batch b;
  memset(&b, 0, sizeof b);
  if (get_bytes(env, argv[0], &b.base, &b.size) != 0) return throw_code(env, "EINVAL", "ioTryRead: memory must be a Uint8Array");
  if (get_fd(env, argv[1], &b.fd) != 0) return throw_code(env, "EBADF", "ioTryRead");
  bool is_ta;
  napi_typedarray_type type;
  void *ops;
  if (napi_is_typedarray(env, argv[2], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[2], &type, &b.op_words, &ops, NULL, NULL) != napi_ok || type != napi_float64_array)
    return throw_code(env, "EINVAL", "ioTryRead: ops must be a Float64Array");
  b.ops = ops;
  b.nowait = 1;
  size_t count = 0;
  for (size_t at = 0; at + 3 <= b.op_words; count++) at += 3 + 2 * (size_t)b.ops[at + 2];
  napi_value buffer, results;
  void *out;
  napi_create_arraybuffer(env, (count ? count : 1) * sizeof(double), &out, &buffer);
  double *r = out;
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    if ((int)b.ops[at] != 0) {
      r[i] = -EAGAIN;
      at += 3 + 2 * (size_t)b.ops[at + 2];
      continue;
    }
    r[i] = (double)io_one(&b, &at);
  }
  napi_create_typedarray(env, napi_float64_array, count, buffer, 0, &results);
  return results;
}

static napi_value js_io_batch(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  CHECK(get_args(env, info, 4, argv) == 0 ? napi_ok : napi_invalid_arg);
  uint8_t *base;
  size_t size;
  if (get_bytes(env, argv[0], &base, &size) != 0) return throw_code(env, "EINVAL", "ioBatch: memory must be a Uint8Array");
  int fd;
  if (get_fd(env, argv[1], &fd) != 0) return throw_code(env, "EBADF", "ioBatch");
  bool is_ta;
  napi_typedarray_type type;
  size_t words;
  void *ops;
  if (napi_is_typedarray(env, argv[2], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[2], &type, &words, &ops, NULL, NULL) != napi_ok || type != napi_float64_array)
    return throw_code(env, "EINVAL", "ioBatch: ops must be a Float64Array");
  size_t count = 0;
  for (size_t at = 0; at + 3 <= words; count++) at += 3 + 2 * (size_t)((double *)ops)[at + 2];
  struct io_batch *b = calloc(1, sizeof *b);
  if (!b) return throw_code(env, "ENOMEM", "ioBatch");
  b->results = calloc(count ? count : 1, sizeof(double));
  if (!b->results) {
    free(b);
    return throw_code(env, "ENOMEM", "ioBatch");
  }
  b->base = base;
  b->size = size;
  b->fd = fd;
  b->ops = ops;
  b->op_words = words;
  b->count = count;
  napi_create_reference(env, argv[0], 1, &b->memory_ref);
  napi_create_reference(env, argv[2], 1, &b->ops_ref);
  napi_create_reference(env, argv[3], 1, &b->callback);
  napi_value name;
  napi_create_string_utf8(env, "vhost-user-io", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, io_execute, io_complete, b, &b->work);
  napi_queue_async_work(env, b->work);
  return NULL;
}

/* ---------- readiness: uv_poll ---------- */

struct watcher {
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_ref self;
  napi_async_context context;
  int closing;
};

static void on_closed(uv_handle_t *h) {
  struct watcher *w = h->data;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  free(w);
}

static void stop_watcher(struct watcher *w) {
  if (w->closing) return;
  w->closing = 1;
  uv_poll_stop(&w->handle);
  if (w->self) {
    napi_delete_reference(w->env, w->self);
    w->self = NULL;
  }
  uv_close((uv_handle_t *)&w->handle, on_closed);
}

static void on_ready(uv_poll_t *h, int status, int events) {
  struct watcher *w = h->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, argv[2], result;
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_global(env, &global);
  if (status < 0) {
    napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &argv[0]);
  } else {
    napi_get_null(env, &argv[0]);
  }
  napi_create_int32(env, events, &argv[1]);
  if (napi_make_callback(env, w->context, global, cb, 2, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

static void finalize_watcher(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  /* The JS handle was collected: stop the poll if the owner forgot to. */
  struct watcher *w = data;
  if (!w->closing) stop_watcher(w);
}

/* watch(fd, events, callback(error, events)): a handle; events 1 = readable, 2 = writable. */
static napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t events;
  CHECK(get_args(env, info, 3, argv) == 0 ? napi_ok : napi_invalid_arg);
  if (get_fd(env, argv[0], &fd) != 0) return throw_code(env, "EBADF", "watch");
  if (get_int(env, argv[1], &events) != 0 || events < 1 || events > 3) return throw_code(env, "EINVAL", "watch: events must be 1, 2 or 3");
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t != napi_function) return throw_code(env, "EINVAL", "watch: callback must be a function");
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  struct watcher *w = calloc(1, sizeof *w);
  if (!w) return throw_code(env, "ENOMEM", "watch");
  int rc = uv_poll_init(loop, &w->handle, fd);
  if (rc != 0) {
    free(w);
    return throw_code(env, uv_err_name(rc), "uv_poll_init");
  }
  w->handle.data = w;
  w->env = env;
  napi_create_reference(env, argv[2], 1, &w->callback);
  napi_value name;
  napi_create_string_utf8(env, "vhost-user:watch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  int uv_events = ((events & 1) ? UV_READABLE : 0) | ((events & 2) ? UV_WRITABLE : 0);
  rc = uv_poll_start(&w->handle, uv_events, on_ready);
  napi_value handle;
  napi_create_object(env, &handle);
  napi_wrap(env, handle, w, finalize_watcher, NULL, NULL);
  if (rc != 0) {
    stop_watcher(w);
    return throw_code(env, uv_err_name(rc), "uv_poll_start");
  }
  return handle;
}

/* update(handle, events): changes the watched events (0 pauses). */
static napi_value js_watch_update(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t events;
  CHECK(get_args(env, info, 2, argv) == 0 ? napi_ok : napi_invalid_arg);
  struct watcher *w = NULL;
  if (napi_unwrap(env, argv[0], (void **)&w) != napi_ok || !w) return throw_code(env, "EINVAL", "not a watch handle");
  if (get_int(env, argv[1], &events) != 0 || events < 0 || events > 3) return throw_code(env, "EINVAL", "events must be 0..3");
  if (w->closing) return NULL;
  if (events == 0) {
    uv_poll_stop(&w->handle);
    return NULL;
  }
  int uv_events = ((events & 1) ? UV_READABLE : 0) | ((events & 2) ? UV_WRITABLE : 0);
  int rc = uv_poll_start(&w->handle, uv_events, on_ready);
  if (rc != 0) return throw_code(env, uv_err_name(rc), "uv_poll_start");
  return NULL;
}

static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  CHECK(get_args(env, info, 1, argv) == 0 ? napi_ok : napi_invalid_arg);
  struct watcher *w = NULL;
  if (napi_remove_wrap(env, argv[0], (void **)&w) != napi_ok || !w) return NULL; /* already stopped */
  stop_watcher(w);
  return NULL;
}

/* pageSize(): the system page size (mapping granularity). */
static napi_value js_page_size(napi_env env, napi_callback_info info) {
  (void)info;
  return make_int(env, page_size());
}

/* ---------- module ---------- */

static napi_value init(napi_env env, napi_value exports) {
  struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"connect", js_connect},       {"listen", js_listen},           {"accept", js_accept},
      {"socketpair", js_socketpair}, {"sendmsg", js_sendmsg},         {"recvmsg", js_recvmsg},
      {"memfdCreate", js_memfd_create}, {"ftruncate", js_ftruncate},  {"eventfd", js_eventfd},
      {"eventfdRead", js_eventfd_read}, {"eventfdWrite", js_eventfd_write}, {"fstatSize", js_fstat_size},
      {"close", js_close},           {"dup", js_dup},                 {"mmap", js_mmap},
      {"munmap", js_munmap},         {"mapInto", js_map_into},        {"unmapFrom", js_unmap_from},
      {"watch", js_watch},           {"watchUpdate", js_watch_update}, {"unwatch", js_unwatch},
      {"pageSize", js_page_size},    {"guardFaults", js_guard_faults},
      {"ioBatch", js_io_batch},      {"ioTryRead", js_io_try_read},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
