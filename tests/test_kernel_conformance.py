"""The book's SQL and echo kernels against jupyter_kernel_test, the kernel test kit.

``KernelTests`` starts the kernel from its kernelspec (installed by conftest.py into a
private JUPYTER_PATH), sends each kind of request and validates every reply against the
spec's schema. Each class attribute below feeds one of its tests; tests whose sample is
left empty are skipped.
"""

from __future__ import annotations

import jupyter_kernel_test


class TestSqliteKernel(jupyter_kernel_test.KernelTests):
    kernel_name = "sqlite-book"
    language_name = "sql"
    file_extension = ".sql"

    code_execute_result = [
        {"code": "SELECT 6 * 7 AS answer;", "result": "answer\n------\n42"},
    ]
    code_generate_error = "SELECT * FROM no_such_table;"
    completion_samples = [{"text": "SEL", "matches": {"SELECT"}}]
    complete_code_samples = ["SELECT 1;", "CREATE TABLE t (x INTEGER);"]
    incomplete_code_samples = ["SELECT 1", "CREATE TABLE t ("]
    invalid_code_samples = ["SELECT 1);"]
    code_inspect_sample = "SELECT"


class TestEchoKernel(jupyter_kernel_test.KernelTests):
    kernel_name = "echo-book"
    language_name = "echo"
    file_extension = ".txt"
    code_hello_world = "hello, world"
