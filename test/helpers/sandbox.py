"""Runs a program under two kernel restrictions that systemd applies to a unit, without systemd.

  sandbox.py [--mdwe] [--families=2,10,1] PROGRAM ARGS...

--mdwe: MemoryDenyWriteExecute=yes, which systemd enforces with prctl(PR_SET_MDWE,
PR_MDWE_REFUSE_EXEC_GAIN) on kernels that have it (6.3+), else with the same rule in seccomp.
--families: RestrictAddressFamilies= with these address families (AF_UNIX 1, AF_INET 2,
AF_INET6 10, AF_NETLINK 16): as systemd's seccomp filter does, socket() with any other family
fails with EAFNOSUPPORT. Exits 97 when the kernel refuses a restriction (the test then skips).
"""
import ctypes
import os
import platform
import struct
import sys

PR_SET_SECCOMP, SECCOMP_MODE_FILTER, PR_SET_NO_NEW_PRIVS = 22, 2, 38
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
EAFNOSUPPORT = 97
# The socket() system call and the audit architecture of this machine.
SOCKET, AUDIT_ARCH = {'x86_64': (41, 0xC000003E), 'aarch64': (198, 0xC00000B7)}.get(platform.machine(), (None, None))

libc = ctypes.CDLL(None, use_errno=True)


def refused(what):
    print(f'{what}: errno {ctypes.get_errno()}', file=sys.stderr)
    sys.exit(97)


def restrict_families(families):
    if SOCKET is None:
        refused(f'no seccomp filter written for {platform.machine()}')
    def op(code, k, jt=0, jf=0):
        return struct.pack('HBBI', code, jt, jf, k)

    load, jump_eq, ret = 0x20, 0x15, 0x06
    program = [
        op(load, 4),  # seccomp_data.arch
        op(jump_eq, AUDIT_ARCH, 1, 0),
        op(ret, 0x80000000),  # another architecture's calls: kill the process
        op(load, 0),  # seccomp_data.nr
        op(jump_eq, SOCKET, 0, len(families) + 2),
        op(load, 16),  # seccomp_data.args[0]: the address family
    ]
    for index, family in enumerate(families):
        program.append(op(jump_eq, family, len(families) - index, 0))
    program += [op(ret, 0x00050000 | EAFNOSUPPORT), op(ret, 0x7FFF0000)]
    filters = ctypes.create_string_buffer(b''.join(program))
    fprog = ctypes.create_string_buffer(struct.pack('HxxxxxxQ', len(program), ctypes.addressof(filters)))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        refused('PR_SET_NO_NEW_PRIVS')
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.c_void_p(ctypes.addressof(fprog)), 0, 0) != 0:
        refused('seccomp')


args = sys.argv[1:]
while args and args[0].startswith('--'):
    option = args.pop(0)
    if option == '--mdwe':
        if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
            refused('PR_SET_MDWE')
    elif option.startswith('--families='):
        restrict_families([int(family) for family in option.split('=', 1)[1].split(',')])
os.execv(args[0], args)
