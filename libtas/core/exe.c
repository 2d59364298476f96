/* exe.c - whether the shim can serve a program at all (tas_program_check,
 * libtas.h).
 *
 * LD_PRELOAD only reaches a program that the dynamic loader starts, and only
 * the socket calls that go through libc: a statically linked program (no
 * PT_INTERP) never loads the shim, and a Go program's runtime makes its
 * system calls itself (a .go.buildinfo section or a Go build-id note), so
 * its sockets stay on the Linux stack whatever the shim does.  tas-run asks
 * before it starts a program; the shim asks about the program it was
 * loaded into and says so once.  Only the ELF headers are read (64-bit,
 * this machine's byte order); anything else (a script, a 32-bit program) is
 * not judged.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtas/core/core.h"

#define MAX_SECTIONS 4096
#define NAMES_MAX    65536

static bool read_at(int fd, void *buf, size_t len, uint64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* Does the section-name table name a Go section? */
static bool go_sections(int fd, const Elf64_Ehdr *eh)
{
    if (eh->e_shoff == 0 || eh->e_shnum == 0 || eh->e_shnum > MAX_SECTIONS ||
        eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum)
        return false;
    Elf64_Shdr strs;
    if (!read_at(fd, &strs, sizeof(strs),
                 eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof(Elf64_Shdr)) ||
        strs.sh_size == 0 || strs.sh_size > NAMES_MAX)
        return false;
    /* (malloc, not a static buffer: the shim's TLS would grow every thread) */
    char *names = malloc(strs.sh_size + 1);
    if (names == NULL || !read_at(fd, names, strs.sh_size, strs.sh_offset)) {
        free(names);
        return false;
    }
    names[strs.sh_size] = '\0';
    bool go = false;
    for (uint16_t i = 0; i < eh->e_shnum && !go; i++) {
        Elf64_Shdr sh;
        if (!read_at(fd, &sh, sizeof(sh), eh->e_shoff + (uint64_t)i * sizeof(sh)))
            break;
        if (sh.sh_name >= strs.sh_size)
            continue;
        const char *n = names + sh.sh_name;
        go = strcmp(n, ".go.buildinfo") == 0 || strcmp(n, ".note.go.buildid") == 0 ||
             strcmp(n, ".gopclntab") == 0;
    }
    free(names);
    return go;
}

int tc_program_check(const char *path, char *why, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    Elf64_Ehdr eh;
    int r = 0;
    if (!read_at(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > MAX_SECTIONS)
        goto out; /* not a program we can judge */
    bool interp = false;
    for (uint16_t i = 0; i < eh.e_phnum && !interp; i++) {
        Elf64_Phdr ph;
        if (!read_at(fd, &ph, sizeof(ph), eh.e_phoff + (uint64_t)i * sizeof(ph)))
            goto out;
        interp = ph.p_type == PT_INTERP;
    }
    if (go_sections(fd, &eh)) {
        snprintf(why, len,
                 "%s is a Go program: Go's runtime makes its system calls itself, past "
                 "the shim, so its sockets stay on the Linux stack",
                 path);
        r = -ENOEXEC;
    } else if (!interp) { /* static, or static-pie */
        snprintf(why, len,
                 "%s is statically linked: the shim cannot be loaded into it, so its "
                 "sockets stay on the Linux stack",
                 path);
        r = -ENOEXEC;
    }
out:
    real_close(fd);
    return r;
}
