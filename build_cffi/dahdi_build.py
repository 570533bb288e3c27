# The DAHDI user-space interface as cffi sees it, built out of line in ABI mode.
#
# ABI mode needs neither a compiler nor the DAHDI headers at install time: setuptools turns
# this file into the pure-Python module `boardcc.drivers.dahdi._dahdi_cffi` (through
# `cffi_modules` in setup.py), so boardcc installs on any machine and the DAHDI backend only
# needs the kernel modules when a board is opened. The price of ABI mode is that nothing
# checks these declarations against the real header at build time; tests/test_dahdi_header.py
# does that wherever Debian's dahdi-source is installed (CI installs it), field by field.
#
# Only what boardcc uses is declared: the structs of the ioctls the backend issues and the
# libc calls that move them. Struct layouts follow include/dahdi/user.h of dahdi-linux
# (2.x and 3.x agree on all of them).

from cffi import FFI

ffibuilder = FFI()

ffibuilder.cdef(
    """
    /* DAHDI_GET_PARAMS / DAHDI_SET_PARAMS */
    struct dahdi_params {
        int channo;
        int spanno;
        int chanpos;
        int sigtype;
        int sigcap;
        int rxisoffhook;
        int rxbits;
        int txbits;
        int txhooksig;
        int rxhooksig;
        int curlaw;
        int idlebits;
        char name[40];
        int prewinktime;
        int preflashtime;
        int winktime;
        int flashtime;
        int starttime;
        int rxwinktime;
        int rxflashtime;
        int debouncetime;
        int pulsebreaktime;
        int pulsemaketime;
        int pulseaftertime;
        uint32_t chan_alarms;
    };

    /* DAHDI_GET_BUFINFO / DAHDI_SET_BUFINFO */
    struct dahdi_bufferinfo {
        int txbufpolicy;
        int rxbufpolicy;
        int numbufs;
        int bufsize;
        int readbufs;
        int writebufs;
    };

    /* DAHDI_GETCONF / DAHDI_SETCONF */
    struct dahdi_confinfo {
        int chan;
        int confno;
        int confmode;
    };

    /* DAHDI_GETGAINS / DAHDI_SETGAINS: one byte-to-byte table per direction, in the
       channel's companding law */
    struct dahdi_gains {
        int chan;
        unsigned char rxgain[256];
        unsigned char txgain[256];
    };

    /* DAHDI_ECHOCANCEL_PARAMS: the header, followed in memory by param_count params */
    struct dahdi_echocanparam {
        char name[16];
        int32_t value;
    };
    struct dahdi_echocanparams {
        uint32_t tap_length;
        uint32_t param_count;
        struct dahdi_echocanparam params[];
    };

    /* DAHDI_SETCADENCE: ms on, ms off, ..., ended by a 0 */
    struct dahdi_ring_cadence {
        int ringcadence[16];
    };

    /* libc */
    struct pollfd {
        int fd;
        short events;
        short revents;
    };
    int open(const char *pathname, int flags, ...);
    int close(int fd);
    int ioctl(int fd, unsigned long request, ...);
    ssize_t read(int fd, void *buf, size_t count);
    ssize_t write(int fd, const void *buf, size_t count);
    int poll(struct pollfd *fds, unsigned long nfds, int timeout);
    """
)

ffibuilder.set_source("boardcc.drivers.dahdi._dahdi_cffi", None)
