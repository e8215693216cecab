/* Which exceptions an op may raise: each op names those its path can legitimately raise
 * (and says why in a comment); any other is an unexpected-exception finding. */
#include "internal.h"

void oracle_expect_error(ftf_run_t *run, const char *where, PyObject *expected,
                         PyObject *also_expected)
{
    (void)run;
    PyObject *exc = PyErr_GetRaisedException();
    if (!exc) {
        report_finding("driver-bug", "%s failed without an exception", where);
    }
    if ((expected && PyErr_GivenExceptionMatches(exc, expected)) ||
        (also_expected && PyErr_GivenExceptionMatches(exc, also_expected))) {
        Py_DECREF(exc);
        return;
    }
    PyObject *s = PyObject_Str(exc);
    const char *msg = s ? PyUnicode_AsUTF8(s) : "<unprintable>";
    report_finding("unexpected-exception", "%s raised %s: %s", where, Py_TYPE(exc)->tp_name,
                   msg ? msg : "<unprintable>");
}

void oracle_require(ftf_run_t *run, int ok, const char *what)
{
    if (!ok) {
        oracle_expect_error(run, what, NULL, NULL);
    }
}
