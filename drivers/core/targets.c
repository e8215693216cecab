/* The op tables: which operations each target's op byte selects, their names and what
 * their operands mean; ops/ runs them (ops_run, by family).
 * An op's index in its target's table is its byte code, so appending keeps old inputs
 * meaning what they meant; reordering is a format change (see schedule.c). */
#include <string.h>

#include "internal.h"

static const ftf_op_desc_t op_barrier = {"barrier", FTF_FAMILY_BARRIER, FTF_POOL_NONE, 0, 0};

#define STORE_USES (FTF_USES_OBJ | FTF_USES_ATTR | FTF_USES_VALUE | FTF_USES_REPEAT)
#define LOAD_USES (FTF_USES_OBJ | FTF_USES_ATTR | FTF_USES_REPEAT)
#define DELETE_USES (FTF_USES_OBJ | FTF_USES_ATTR)
#define ATTR_OP(pool, prefix, act, actname, uses, path, pathname) \
    {prefix "." actname "-" pathname, FTF_FAMILY_ATTR, pool, uses, act * 4 + path}
#define ATTR_PATH(pool, prefix, path, pathname)                             \
    ATTR_OP(pool, prefix, FTF_ACT_STORE, "store", STORE_USES, path, pathname), \
    ATTR_OP(pool, prefix, FTF_ACT_LOAD, "load", LOAD_USES, path, pathname),    \
    ATTR_OP(pool, prefix, FTF_ACT_DELETE, "delete", DELETE_USES, path, pathname)
/* Every access path to a slot or member: bytecode in a hot function (specialized from
 * 3.14 on), setattr/getattr/delattr, the member descriptor, PyMember_*One directly. */
#define ATTR_OPS(pool, prefix)                                                             \
    {ATTR_PATH(pool, prefix, FTF_PATH_BYTECODE, "bytecode"), ATTR_PATH(pool, prefix, FTF_PATH_ATTR, "attr"), \
     ATTR_PATH(pool, prefix, FTF_PATH_DESCR, "descr"), ATTR_PATH(pool, prefix, FTF_PATH_MEMBER, "member")}
#define ATTR_LIST(a) \
    &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8], &a[9], &a[10], &a[11]

static const ftf_op_desc_t slots_attr[12] = ATTR_OPS(FTF_POOL_SLOTS, "slots");
static const ftf_op_desc_t members_attr[12] = ATTR_OPS(FTF_POOL_MEMBERS, "members");
static const ftf_op_desc_t class_attr[12] = ATTR_OPS(FTF_POOL_CLASS, "class");

static const ftf_op_desc_t members_init = {
    "members.store-init", FTF_FAMILY_MEMBER_INIT, FTF_POOL_MEMBERS, STORE_USES, 0};

static const ftf_op_desc_t class_set = {"class.set-class", FTF_FAMILY_SET_CLASS, FTF_POOL_CLASS,
                                        FTF_USES_OBJ | FTF_USES_CLASS, 0};
static const ftf_op_desc_t class_store_k = {"class.store-k", FTF_FAMILY_CLASS_ATTR, FTF_POOL_CLASS,
                                            FTF_USES_CLASS | FTF_USES_VALUE, FTF_ACT_STORE};
static const ftf_op_desc_t class_load_k = {"class.load-k", FTF_FAMILY_CLASS_ATTR, FTF_POOL_CLASS,
                                           FTF_USES_OBJ | FTF_USES_REPEAT, FTF_ACT_LOAD};
static const ftf_op_desc_t class_delete_k = {"class.delete-k", FTF_FAMILY_CLASS_ATTR, FTF_POOL_CLASS,
                                             FTF_USES_CLASS, FTF_ACT_DELETE};

static const ftf_op_desc_t globals_load = {"globals.load", FTF_FAMILY_GLOBALS, FTF_POOL_GLOBALS,
                                           FTF_USES_ATTR | FTF_USES_REPEAT, GLOBALS_LOAD};
static const ftf_op_desc_t globals_store = {"globals.store", FTF_FAMILY_GLOBALS, FTF_POOL_GLOBALS,
                                            FTF_USES_ATTR | FTF_USES_VALUE, GLOBALS_STORE};
static const ftf_op_desc_t globals_delete = {"globals.delete", FTF_FAMILY_GLOBALS, FTF_POOL_GLOBALS,
                                             FTF_USES_ATTR, GLOBALS_DELETE};
static const ftf_op_desc_t builtins_store = {"builtins.store", FTF_FAMILY_GLOBALS, FTF_POOL_GLOBALS,
                                             FTF_USES_ATTR | FTF_USES_VALUE, BUILTINS_STORE};
static const ftf_op_desc_t builtins_delete = {"builtins.delete", FTF_FAMILY_GLOBALS, FTF_POOL_GLOBALS,
                                              FTF_USES_ATTR, BUILTINS_DELETE};
static const ftf_op_desc_t globals_churn = {"globals.churn", FTF_FAMILY_GLOBALS, FTF_POOL_GLOBALS,
                                            FTF_USES_REPEAT, GLOBALS_CHURN};

static const ftf_op_desc_t selftest_over_release = {
    "selftest.over-release", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS, FTF_USES_VALUE, SELFTEST_OVER_RELEASE};
static const ftf_op_desc_t selftest_read_freed = {
    "selftest.read-freed", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS, FTF_USES_OBJ | FTF_USES_ATTR,
    SELFTEST_READ_FREED};
static const ftf_op_desc_t selftest_leak = {"selftest.leak", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS,
                                            FTF_USES_VALUE, SELFTEST_LEAK};
static const ftf_op_desc_t selftest_stall = {"selftest.stall", FTF_FAMILY_SELFTEST, FTF_POOL_NONE, 0,
                                             SELFTEST_STALL};
static const ftf_op_desc_t selftest_spin = {"selftest.spin", FTF_FAMILY_SELFTEST, FTF_POOL_NONE, 0,
                                            SELFTEST_SPIN};
static const ftf_op_desc_t selftest_poll = {"selftest.poll", FTF_FAMILY_SELFTEST, FTF_POOL_NONE, 0,
                                            SELFTEST_POLL};
static const ftf_op_desc_t selftest_racy_read = {"selftest.racy-read", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS,
                                                 FTF_USES_OBJ | FTF_USES_ATTR, SELFTEST_RACY_READ};
static const ftf_op_desc_t selftest_hold_lock = {"selftest.hold-lock", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS,
                                                 FTF_USES_OBJ, SELFTEST_HOLD_LOCK};
static const ftf_op_desc_t selftest_stale_load = {"selftest.stale-load", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS,
                                                  FTF_USES_OBJ | FTF_USES_ATTR, SELFTEST_STALE_LOAD};
static const ftf_op_desc_t selftest_store_raises = {"selftest.store-raises", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS,
                                                    FTF_USES_OBJ | FTF_USES_ATTR | FTF_USES_VALUE,
                                                    SELFTEST_STORE_RAISES};
static const ftf_op_desc_t selftest_delete_nothing = {"selftest.delete-nothing", FTF_FAMILY_SELFTEST,
                                                      FTF_POOL_SLOTS, FTF_USES_OBJ | FTF_USES_ATTR,
                                                      SELFTEST_DELETE_NOTHING};
static const ftf_op_desc_t selftest_delete_keep = {"selftest.delete-keep", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS,
                                                   FTF_USES_OBJ | FTF_USES_ATTR, SELFTEST_DELETE_KEEP};
static const ftf_op_desc_t selftest_torn_class_load = {"selftest.torn-class-load", FTF_FAMILY_SELFTEST,
                                                       FTF_POOL_CLASS, FTF_USES_OBJ, SELFTEST_TORN_CLASS_LOAD};
static const ftf_op_desc_t selftest_wait_in_fast_path = {
    "selftest.wait-in-fast-path", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS, FTF_USES_OBJ, SELFTEST_WAIT_IN_FAST_PATH};
static const ftf_op_desc_t selftest_release_in_fast_path = {
    "selftest.release-in-fast-path", FTF_FAMILY_SELFTEST, FTF_POOL_SLOTS, FTF_USES_OBJ,
    SELFTEST_RELEASE_IN_FAST_PATH};

/* Serialized runs never collect by themselves (sched_serial.c): this is how a schedule
 * puts a collection, its stop-the-world and its refcount merges, among the ops. Only in
 * the mixed table: a collection costs as much as the rest of a run, and in a small
 * table every eighth to fourteenth op would be one (free fuzz_slots ran at a third of
 * its speed). */
static const ftf_op_desc_t gc_collect = {"gc.collect", FTF_FAMILY_COLLECT, FTF_POOL_NONE, 0, 0};

#define CLASS_OPS &class_set, &class_store_k, &class_load_k, &class_delete_k
#define GLOBALS_OPS \
    &globals_load, &globals_store, &globals_delete, &builtins_store, &builtins_delete, &globals_churn

static const ftf_op_desc_t *const slots_ops[] = {&op_barrier, ATTR_LIST(slots_attr)};
static const ftf_op_desc_t *const members_ops[] = {&op_barrier, ATTR_LIST(members_attr),
                                                   &members_init};
static const ftf_op_desc_t *const class_ops[] = {&op_barrier, CLASS_OPS, ATTR_LIST(class_attr)};
static const ftf_op_desc_t *const globals_ops[] = {&op_barrier, GLOBALS_OPS};
static const ftf_op_desc_t *const mixed_ops[] = {
    &op_barrier, ATTR_LIST(slots_attr), ATTR_LIST(members_attr), CLASS_OPS, ATTR_LIST(class_attr),
    GLOBALS_OPS, &members_init, &gc_collect};
static const ftf_op_desc_t *const selftest_ops[] = {
    &op_barrier, &selftest_over_release, &selftest_read_freed, &selftest_leak, &selftest_stall,
    &slots_attr[9], &slots_attr[10], &selftest_racy_read, &selftest_hold_lock,
    &selftest_wait_in_fast_path, &selftest_stale_load, &selftest_store_raises, &selftest_delete_nothing,
    &selftest_torn_class_load, &class_set, &class_store_k, &selftest_spin, &selftest_release_in_fast_path,
    &selftest_poll, &selftest_delete_keep, &slots_attr[0]};

#define TABLE(a) {a, (int)(sizeof(a) / sizeof(a[0]))}
static const ftf_table_t tables[FTF_TARGET_COUNT] = {
    [FTF_TARGET_SLOTS] = TABLE(slots_ops),
    [FTF_TARGET_MEMBERS] = TABLE(members_ops),
    [FTF_TARGET_CLASS] = TABLE(class_ops),
    [FTF_TARGET_GLOBALS] = TABLE(globals_ops),
    [FTF_TARGET_MIXED] = TABLE(mixed_ops),
    [FTF_TARGET_SELFTEST] = TABLE(selftest_ops),
};

static const char *const target_names[FTF_TARGET_COUNT] = {
    [FTF_TARGET_SLOTS] = "slots",     [FTF_TARGET_MEMBERS] = "members",
    [FTF_TARGET_CLASS] = "class",     [FTF_TARGET_GLOBALS] = "globals",
    [FTF_TARGET_MIXED] = "mixed",     [FTF_TARGET_SELFTEST] = "selftest",
};

/* The attribute (or global name) an op's attr field picks, per pool: also the names
 * the Python objects of world.c are made with. */
static const char *const pool_attrs[FTF_POOL_COUNT][4] = {
    [FTF_POOL_SLOTS] = {"a", "b"},
    [FTF_POOL_MEMBERS] = {"obj", "objex"},
    [FTF_POOL_CLASS] = {"a", "b"},
    [FTF_POOL_GLOBALS] = {"G0", "G1", "B0", "S0"},
};
static const char *const class_names[FTF_CLASSES] = {"A", "B", "C"};

int targets_nattrs(ftf_pool_t pool)
{
    int n = 0;
    while (n < 4 && pool_attrs[pool][n]) {
        n++;
    }
    return n;
}

const char *targets_attr_name(ftf_pool_t pool, int i) { return pool_attrs[pool][i]; }
const char *targets_class_name(int i) { return class_names[i]; }

const ftf_table_t *targets_table(ftf_target_t target) { return &tables[target]; }

int targets_find_op(ftf_target_t target, const char *name)
{
    const ftf_table_t *t = &tables[target];
    for (int i = 0; i < t->nops; i++) {
        if (strcmp(t->ops[i]->name, name) == 0) {
            return i;
        }
    }
    return -1;
}

const char *ftf_target_name(ftf_target_t target) { return target_names[target]; }
int ftf_target_op_count(ftf_target_t target) { return tables[target].nops; }
const char *ftf_target_op_name(ftf_target_t target, int code) { return tables[target].ops[code]->name; }

static const char serial_suffix[] = "_serial";

ftf_mode_t ftf_mode_from_name(const char *name)
{
    size_t n = strlen(name), k = sizeof(serial_suffix) - 1;
    return n > k && strcmp(name + n - k, serial_suffix) == 0 ? FTF_MODE_SERIAL : FTF_MODE_FREE;
}

int ftf_target_from_name(const char *name)
{
    if (strncmp(name, "fuzz_", 5) == 0) {
        name += 5;
    }
    size_t n = strlen(name);
    if (ftf_mode_from_name(name) == FTF_MODE_SERIAL) {
        n -= sizeof(serial_suffix) - 1;
    }
    for (int i = 0; i < FTF_TARGET_COUNT; i++) {
        if (strlen(target_names[i]) == n && strncmp(target_names[i], name, n) == 0) {
            return i;
        }
    }
    return -1;
}
