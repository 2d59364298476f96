/* config_table.h - the table of tasd's settings, shared by the two files of
 * the configuration (not installed; tasd/config.h is the interface the rest
 * of tasd uses).
 *
 * config_table.c says what the settings are: one row per setting (its key
 * in the file, its flag, its kind, its range and its help line), their
 * defaults and the --help text built from the rows.  config.c, the loader,
 * reads the file and the command line into struct tasd_config through these
 * rows; the table never calls the loader.
 */
#ifndef TASD_CONFIG_TABLE_H
#define TASD_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tasd/config.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define TASD_DEFAULT_CONFIG_FILE SYSCONFDIR "/tasd/tasd.conf"

enum tasd_setting_kind {
    TASD_K_UINT,     /* uint32_t in min..max (TASD_F_POW2, TASD_F_ZERO) */
    TASD_K_BOOL,     /* bool */
    TASD_K_ADDR,     /* "a.b.c.d/len" into a uint32_t and a uint8_t (off2) */
    TASD_K_STR,      /* char[max] */
    TASD_K_IFNAME,   /* char[max], a Linux interface name or "" */
    TASD_K_DIR,      /* char[max], an absolute directory for the sockets */
    TASD_K_ENUM,     /* one of the words of arg ("a|b|c"), stored as an int: its index */
    TASD_K_CC,       /* a congestion control name (slowpath/cc.h) */
    TASD_K_ROUTES,   /* the routes list / repeated --route */
    TASD_K_POLICY,   /* the policy list / repeated --policy */
};

#define TASD_F_POW2 1u /* value must be a power of two */
#define TASD_F_ZERO 2u /* 0 is allowed besides min..max */

struct tasd_setting {
    const char *key;  /* path in the file */
    const char *flag; /* long option, without "--" */
    enum tasd_setting_kind kind;
    size_t off;        /* field in struct tasd_config */
    size_t off2;       /* TASD_K_ADDR: the prefix length field */
    uint32_t min, max; /* TASD_K_UINT: range; string kinds: max = buffer size */
    unsigned flags;
    const char *arg; /* argument name in --help */
    const char *help;
};

/* Every setting, in --help order: TASD_N_SETTINGS rows.  The count is
 * checked against the rows where they are defined (a row more or less does
 * not compile); the loader sizes its per-setting arrays with it. */
#define TASD_N_SETTINGS 58
extern const struct tasd_setting tasd_settings[];

/* TASD_K_ENUM: word i of s->arg into out (n bytes); false if it has fewer. */
bool tasd_setting_word(const struct tasd_setting *s, unsigned i, char *out, size_t n);

/* Set c to the defaults: zero, then the value of every setting that has one. */
void tasd_config_defaults(struct tasd_config *c);

/* The setting whose file key is key ("tcp.rto_min_ms"), or NULL. */
const struct tasd_setting *tasd_setting_find(const char *key);

/* Is key ("host_if") the group of some setting ("host_if.name")? */
bool tasd_setting_is_group(const char *key);

/* Write tasd --help to f: the fixed flags, then one line per setting with
 * its default. */
void tasd_config_usage(FILE *f);

#endif /* TASD_CONFIG_TABLE_H */
