/*
 * /init of the nested-KVM initramfs (built static by prepare.sh).
 *
 * Inside QEMU's software emulation with an AMD CPU model it:
 *   1. mounts proc, sysfs, devtmpfs for itself;
 *   2. loads the kernel modules listed in /modules/order (dependencies
 *      first, as initramfs.py wrote them), so kvm_amd gives /dev/kvm and
 *      virtio 9p can mount the host's files;
 *   3. mounts the host root read-only (9p tag "hostroot") at /root, fresh
 *      proc/sys/dev/tmp/run inside it, the run folder of run_nested.sh
 *      (9p tag "nestedio") at /root/run/rrvm-nested, and, when asked, the
 *      host's working directory writable (9p tag "hostcwd") over itself;
 *   4. brings up the loopback interface (rrvm gdb serves on 127.0.0.1);
 *   5. runs /run/rrvm-nested/run.sh with bash, chrooted into /root;
 *   6. writes the exit status to the run folder and prints it with a
 *      marker line on the console, then powers off.
 * Any step that fails prints one "nested: harness failure: ..." line and
 * reports status 125, so a broken harness is never mistaken for a test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

enum { kHarnessFailure = 125 };

#define IO_DIR "/root/run/rrvm-nested"
#define NINEP_OPTS "trans=virtio,version=9p2000.L,msize=262144"

static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nested: ", stdout);
  vfprintf(stdout, fmt, ap);
  fputc('\n', stdout);
  fflush(stdout);
  va_end(ap);
}

static double uptime_seconds(void) {
  double up = 0;
  FILE *f = fopen("/proc/uptime", "r");
  if (f) {
    if (fscanf(f, "%lf", &up) != 1) up = 0;
    fclose(f);
  }
  return up;
}

/* Reports the status on the console (the marker run_nested.sh looks for)
 * and in the run folder, then powers the machine off. Never returns. */
static void finish(int status) {
  FILE *f = fopen(IO_DIR "/status", "w");
  if (f) {
    fprintf(f, "%d\n", status);
    fclose(f);
  }
  printf("RRVM-NESTED-EXIT=%d\n", status);
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  /* Only reached if power-off failed; returning from init panics, which
   * with panic=-1 and -no-reboot also ends QEMU. */
  _exit(status);
}

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nested: harness failure: ", stdout);
  vfprintf(stdout, fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  finish(kHarnessFailure);
}

static void mount_or_fail(const char *src, const char *dst, const char *type,
                          unsigned long flags, const char *opts) {
  mkdir(dst, 0755); /* most already exist; on a read-only root this fails harmlessly */
  if (mount(src, dst, type, flags, opts) != 0)
    fail("mount %s (%s) on %s: %s", src, type, dst, strerror(errno));
}

/* Loads every module named in /modules/order ("<file> <name>" per line)
 * and returns a space-separated list of the names loaded. */
static void load_modules(char *loaded, size_t loaded_size) {
  FILE *order = fopen("/modules/order", "r");
  if (!order) fail("no /modules/order in the initramfs: rerun tests/nested/prepare.sh");
  char file[256], name[128];
  loaded[0] = '\0';
  while (fscanf(order, "%255s %127s", file, name) == 2) {
    char path[300];
    snprintf(path, sizeof path, "/modules/%s", file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open %s: %s", path, strerror(errno));
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) {
      int err = errno;
      if (strcmp(name, "kvm_amd") == 0)
        fail("kvm_amd did not load (%s): the emulated CPU lacks SVM? use an AMD "
             "model such as -cpu EPYC (RRVM_NESTED_CPU)", strerror(err));
      fail("loading module %s: %s", name, strerror(err));
    }
    close(fd);
    size_t used = strlen(loaded);
    snprintf(loaded + used, loaded_size - used, "%s%s", used ? " " : "", name);
  }
  fclose(order);
}

/* The kernel creates lo down; nothing else in this initramfs would raise it. */
static void loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) fail("socket for the loopback interface: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) fail("SIOCGIFFLAGS on lo: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) fail("bringing lo up: %s", strerror(errno));
  close(fd);
}

/* Reads a one-line file from the run folder; empty string when absent. */
static void read_setting(const char *name, char *out, size_t size) {
  char path[256];
  snprintf(path, sizeof path, IO_DIR "/%s", name);
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (!fgets(out, (int)size, f)) out[0] = '\0';
  fclose(f);
  out[strcspn(out, "\n")] = '\0';
}

static int run_command(void) {
  pid_t child = fork();
  if (child < 0) fail("fork: %s", strerror(errno));
  if (child == 0) {
    setsid();
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    if (chroot("/root") != 0 || chdir("/") != 0) {
      say("harness failure: chroot into the host root: %s", strerror(errno));
      _exit(kHarnessFailure);
    }
    char *const argv[] = {"bash", "/run/rrvm-nested/run.sh", NULL};
    char *const envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                          "HOME=/root", NULL};
    execve("/bin/bash", argv, envp);
    say("harness failure: exec /bin/bash in the host root: %s", strerror(errno));
    _exit(kHarnessFailure);
  }
  /* As pid 1 we also reap orphans; only the command's own status counts. */
  for (;;) {
    int wstatus;
    pid_t done = wait(&wstatus);
    if (done < 0) fail("wait: %s", strerror(errno));
    if (done != child) continue;
    if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  }
}

int main(void) {
  mount_or_fail("proc", "/proc", "proc", 0, NULL);
  mount_or_fail("sysfs", "/sys", "sysfs", 0, NULL);
  mount_or_fail("devtmpfs", "/dev", "devtmpfs", 0, NULL);

  char loaded[1024];
  load_modules(loaded, sizeof loaded);

  mount_or_fail("hostroot", "/root", "9p", MS_RDONLY, NINEP_OPTS ",cache=loose");
  mount_or_fail("proc", "/root/proc", "proc", 0, NULL);
  mount_or_fail("sysfs", "/root/sys", "sysfs", 0, NULL);
  mount_or_fail("devtmpfs", "/root/dev", "devtmpfs", 0, NULL);
  mount_or_fail("devpts", "/root/dev/pts", "devpts", 0, NULL);
  mount_or_fail("tmpfs", "/root/dev/shm", "tmpfs", 0, "mode=1777");
  mount_or_fail("tmpfs", "/root/tmp", "tmpfs", 0, "mode=1777");
  mount_or_fail("tmpfs", "/root/run", "tmpfs", 0, "mode=755");
  mount_or_fail("nestedio", IO_DIR, "9p", 0, NINEP_OPTS ",cache=none");

  char cwd[4096];
  read_setting("writable_dir", cwd, sizeof cwd);
  if (cwd[0] == '/' && cwd[1] != '\0') {
    char target[4200];
    snprintf(target, sizeof target, "/root%s", cwd);
    /* Under /tmp or /run the folder exists only on the host, not in our tmpfs. */
    for (char *slash = strchr(target + 6, '/'); slash; slash = strchr(slash + 1, '/')) {
      *slash = '\0';
      mkdir(target, 0755);
      *slash = '/';
    }
    mkdir(target, 0755);
    if (mount("hostcwd", target, "9p", 0, NINEP_OPTS ",cache=mmap") != 0)
      fail("mount the working directory %s writable: %s", cwd, strerror(errno));
  }

  struct utsname uts;
  uname(&uts);
  struct stat kvm;
  if (stat("/root/dev/kvm", &kvm) != 0 || !S_ISCHR(kvm.st_mode))
    fail("kvm_amd loaded but /dev/kvm is missing");
  say("kvm_amd loaded, /dev/kvm present (kernel %s, modules: %s)", uts.release, loaded);

  loopback_up();
  double start = uptime_seconds();
  say("booted in %.2f s (guest clock), running the command", start);
  int status = run_command();
  say("command exited with status %d after %.2f s", status, uptime_seconds() - start);
  finish(status);
}
