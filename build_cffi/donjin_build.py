# The Donjin (东进) Tc08a32 and NewSig SDK as cffi sees it, built out of line in ABI mode.
#
# Like the DAHDI binding: setuptools turns this file into the pure-Python module
# `boardcc.drivers.donjin._donjin_cffi` (through `cffi_modules` in setup.py), so boardcc
# installs anywhere without the vendor's header, a compiler or the library, and the
# declarations are parsed once at build time instead of at every import. The vendor's
# library is opened only when a donjin board is opened (boardcc.drivers.donjin.binding).
#
# The declarations are the vendor's published signatures (Tc08a32.h, NewSig.h), restricted to
# what boardcc calls. WINAPI is __stdcall on 32-bit Windows, where the SDK is Tc08a32.dll and
# NewSig.dll; cffi ignores it everywhere else (a Linux .so uses the C calling convention).
# WORD is 16 bits, BOOL an int, DWORD 32 bits (as on Windows; a Linux build of the SDK is
# assumed to keep that), `long` is the platform's own. Nothing checks these against the
# vendor's header here: no header is installable. tests/test_donjin.py runs the binding
# against a simulator of the library compiled from the same signatures.

from cffi import FFI

ffibuilder = FFI()

ffibuilder.cdef(
    """
    typedef unsigned short WORD;
    typedef uint32_t DWORD;
    typedef int BOOL;
    typedef unsigned char BYTE;

    /* ReadStatus: the counts of one channel's play and record (WORD: they wrap at 65536) */
    typedef struct {
        WORD PlayFlag;
        WORD RecordFlag;
        WORD PlayCount;
        WORD RecordCount;
        WORD DtmfCount;
        WORD DialFlag;
        WORD SigCount;
        WORD SigStartPoint;
        char *SigBuf;
    } TPD_RPB;

    /* driver and card */
    long WINAPI LoadDRV(void);
    void WINAPI FreeDRV(void);
    WORD WINAPI CheckValidCh(void);
    WORD WINAPI CheckChType(WORD wChnlNo);
    BOOL WINAPI IsSupportCallerID(void);
    long WINAPI EnableCard(WORD wUsedCh, WORD wFileBufLen);
    void WINAPI DisableCard(void);
    void WINAPI SetPackRate(WORD wPackRate);
    void WINAPI PUSH_PLAY(void);
    void WINAPI FeedSigFunc(void);

    /* hook, ring, polarity */
    BOOL WINAPI RingDetect(WORD wChnlNo);
    void WINAPI OffHook(WORD wChnlNo);
    void WINAPI HangUp(WORD wChnlNo);
    BOOL WINAPI CheckPolarity(WORD wChnlNo);
    void WINAPI FeedRing(WORD wChnlNo);
    void WINAPI FeedPower(WORD wChnlNo);
    BOOL WINAPI OffHookDetect(WORD wChnlNo);
    void WINAPI StartHangUpDetect(WORD wChnlNo);
    WORD WINAPI HangUpDetect(WORD wChnlNo);

    /* record modules: is the line they tap off hook (D160A-REV2 and later drivers) */
    BOOL WINAPI DRec_OffHookDetect(WORD wChnlNo);

    /* links */
    long WINAPI SetLink(WORD wOne, WORD wAnother);
    long WINAPI ClearLink(WORD wOne, WORD wAnother);

    /* hardware DTMF */
    void WINAPI InitDtmfBuf(WORD wChnlNo);
    short WINAPI GetDtmfCode(WORD wChnlNo);

    /* hardware caller ID */
    void WINAPI ResetCallerIDBuffer(WORD wChnlNo);
    WORD WINAPI GetCallerIDStr(WORD wChnlNo, char *IDStr);
    WORD WINAPI GetCallerIDStrEx(WORD wChnlNo, char *strTime, char *strCallerID, char *strUser);

    /* audio: loop play from the channel's buffer, real-time recording to memory */
    void WINAPI SYS_StartLoopPlay(WORD wChnlNo, DWORD dwPlayLen, DWORD dwStartPos);
    void WINAPI SYS_MoveBufToSys(WORD wChnlNo, char *p, DWORD dwMoveLen, DWORD dwSysStartPos);
    void WINAPI StopPlay(WORD wChnlNo);
    void WINAPI ReadStatus(WORD wChnlNo, TPD_RPB *TmpRead);
    int WINAPI VR_SetRefreshSize(WORD wSize);
    void WINAPI VR_StartRecord(WORD wChnlNo);
    void WINAPI VR_StopRecord(WORD wChnlNo);
    int WINAPI VR_GetRecordData(WORD wChnlNo, char *pBuffer);

    /* the card's signal sampling, which NewSig's busy detector reads */
    void WINAPI StartSigCheck(WORD wChnlNo);
    void WINAPI StopSigCheck(WORD wChnlNo);

    /* NewSig.dll */
    int WINAPI Sig_Init(int);
    int WINAPI Sig_CheckBusy(WORD wChNo);
    void WINAPI Sig_ResetCheck(WORD wChNo);
    """
)

ffibuilder.set_source("boardcc.drivers.donjin._donjin_cffi", None)
