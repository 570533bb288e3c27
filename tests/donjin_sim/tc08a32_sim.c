/*
 * A SIMULATOR of Donjin's Tc08a32 and NewSig voice-card libraries, for boardcc's tests only.
 *
 * It exports the vendor functions boardcc's donjin backend binds, with the vendor's
 * signatures, and behaves like a card with a scriptable line behind each channel: an exchange
 * and a caller behind each trunk (ring cadence 1 s on, 4 s off; FSK caller ID between the
 * first and second ring; keys; speech; busy tone once the caller hangs up), a desk phone
 * behind each station (hook, flash, bell, keys, speech). What the card plays to a line is
 * captured; what a line sends is supplied by the test. It is written from the vendor's
 * published API descriptions; nothing in it comes from the vendor's code, and nothing in it
 * has been compared with a real card. The test-control functions are the DJSim_* ones.
 *
 * Time: the card moves on by a fixed number of samples (DJSim_SetStep, 160 by default) at
 * each PUSH_PLAY() call, so it runs in lockstep with the program polling it; a real card runs
 * on its own clock. Audio on the card is 8-bit A-law at 8 kHz (PACK_64KBPS).
 *
 * Built by tests/donjin_sdk_sim.py:  gcc -shared -fPIC -O2 -o libtc08a32sim.so tc08a32_sim.c -lm
 * (with -DDJSIM_NO_CALLERID_EX: a library from before GetCallerIDStrEx).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned short WORD;
typedef uint32_t DWORD;
typedef int BOOL;
typedef unsigned char BYTE;

#define EXPORT __attribute__((visibility("default")))

#define FS 8000
#define MAX_CH 256
#define CH_USER 0
#define CH_TRUNK 1
#define CH_EMPTY 2
#define CH_RECORD 3

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

/* -- one channel: the card's side and the far end's --------------------------------------- */

enum { CALL_IDLE, CALL_RINGING, CALL_TALK, CALL_CLEARED, CALL_OUT };
enum { TONE_NONE, TONE_DIAL, TONE_RINGBACK, TONE_BUSY };
enum { RING_NONE, RING_STEADY, RING_CADENCE };

typedef struct {
    int16_t *data;
    long len, cap, pos; /* pos: next sample to take (queues) */
} Pcm;

typedef struct {
    int type;
    int failed;
    /* card side */
    int card_offhook;      /* trunk: the card holds the line */
    int ring_mode;         /* station: ring current fed by the card */
    int hang_detect;       /* station: StartHangUpDetect armed */
    long onhook_since;     /* station: when the current on-hook began (-1: off hook) */
    int flash_latched;     /* station: an on-hook shorter than 0.5 s ended */
    int hung_latched;      /* station: an on-hook of 0.5 s or more ended */
    int linked;            /* channel linked to (-1 none) */
    int playing;           /* loop play running */
    long play_pos;         /* byte in the system buffer played next */
    long played;           /* bytes played since the play began */
    int vr_on;             /* VR recording running */
    uint8_t *vr;           /* recorded bytes not yet fetched (ring of sysbuf_len) */
    long vr_head, vr_count, recorded;
    long overruns;
    char dtmf[64];
    int dtmf_n;
    int sig_on;
    long sig_reset;
    /* far end */
    int phone_offhook;     /* station */
    long flash_until;      /* station: the phone is back off hook at this sample */
    int bursts;            /* station: rings heard */
    int bell_was;
    int call;              /* trunk */
    long call_since;
    int rings_max;
    int tone;
    long tone_since;
    int polarity;
    char cid_when[16], cid_number[64], cid_name[64];
    int cid_bad, cid_present;
    long cid_reset;
    Pcm say;               /* speech queued by the test */
    char keys[128];        /* keys still to press */
    int keys_n;
    long key_at;           /* sample the current key began */
    double key_phase[2];
    double tone_phase;
    Pcm heard;             /* what the far end heard */
    int16_t rx_now;        /* what the line sends in the current sample */
} Chan;

static Chan ch[MAX_CH];
static int n_ch = 0, loaded = 0, enabled = 0, caller_id_ok = 1, vr_ok = 1;
static long load_result = 0, now = 0, step = 160;
static long sysbuf_len = 0, refresh = 0;
static uint8_t *sysbuf[MAX_CH];

/* -- A-law (G.711), written from the standard --------------------------------------------- */

static uint8_t alaw_encode(int pcm)
{
    int positive = pcm >= 0;
    int mag = positive ? pcm : -pcm - 1;
    mag >>= 3;
    if (mag > 4095)
        mag = 4095;
    int seg = 0;
    while (seg < 7 && mag >= (32 << seg))
        seg++;
    int mant = seg == 0 ? mag >> 1 : (mag >> seg) & 0x0F;
    uint8_t code = (uint8_t)((seg << 4) | mant);
    if (positive)
        code |= 0x80;
    return code ^ 0x55;
}

static int alaw_decode(uint8_t code)
{
    code ^= 0x55;
    int seg = (code >> 4) & 7, mant = code & 0x0F;
    int mag = seg == 0 ? (mant << 1) + 1 : ((mant << 1) + 33) << (seg - 1);
    mag <<= 3;
    return (code & 0x80) ? mag : -mag;
}

static int16_t clip16(double x)
{
    if (x > 32767)
        return 32767;
    if (x < -32768)
        return -32768;
    return (int16_t)lrint(x);
}

static void pcm_push(Pcm *p, const int16_t *x, long n)
{
    if (p->len + n > p->cap) {
        long cap = p->cap ? p->cap : 8000;
        while (cap < p->len + n)
            cap *= 2;
        p->data = realloc(p->data, (size_t)cap * sizeof(int16_t));
        p->cap = cap;
    }
    memcpy(p->data + p->len, x, (size_t)n * sizeof(int16_t));
    p->len += n;
}

static void pcm_clear(Pcm *p)
{
    free(p->data);
    memset(p, 0, sizeof *p);
}

static int valid(WORD c) { return c < n_ch && enabled; }

/* -- the far end, one sample at a time ---------------------------------------------------- */

static const char KEYS[] = "123A456B789C*0#D";
static const double ROWS[] = {697, 770, 852, 941}, COLS[] = {1209, 1336, 1477, 1633};
#define KEY_ON 800  /* 100 ms tone */
#define KEY_LEN 1600 /* then 100 ms gap */

static double sine(double *phase, double hz)
{
    double v = sin(*phase);
    *phase += 2 * M_PI * hz / FS;
    if (*phase > 2 * M_PI)
        *phase -= 2 * M_PI;
    return v;
}

static int ring_voltage(Chan *c)
{
    /* trunk: the exchange's cadence, 1 s on and 4 s off */
    long t = now - c->call_since;
    return c->call == CALL_RINGING && !c->card_offhook && (t % (5 * FS)) < FS;
}

static int bell(Chan *c)
{
    /* station: the card's ring current, tripped when the phone is off hook */
    if (c->phone_offhook || c->ring_mode == RING_NONE)
        return 0;
    if (c->ring_mode == RING_STEADY)
        return 1;
    return (now % (3750 * FS / 1000)) < 750 * FS / 1000;
}

static double key_sample(Chan *c)
{
    if (!c->keys_n)
        return 0;
    long t = now - c->key_at;
    if (t >= KEY_LEN) {
        memmove(c->keys, c->keys + 1, (size_t)c->keys_n);
        c->keys_n--;
        c->key_at = now;
        t = 0;
        if (!c->keys_n)
            return 0;
    }
    if (t >= KEY_ON)
        return 0;
    const char *k = strchr(KEYS, c->keys[0]);
    int i = (int)(k - KEYS);
    double v = 0.5 * sine(&c->key_phase[0], ROWS[i / 4]) + 0.5 * sine(&c->key_phase[1], COLS[i % 4]);
    if (t == KEY_ON - 1 && c->dtmf_n < 64)
        c->dtmf[c->dtmf_n++] = c->keys[0]; /* the card's detector reports it as the tone ends */
    return 9000 * v;
}

static double exchange_tone(Chan *c)
{
    long t = now - c->tone_since;
    int on = 0;
    switch (c->tone) {
    case TONE_DIAL: on = 1; break;
    case TONE_RINGBACK: on = (t % (5 * FS)) < FS; break;
    case TONE_BUSY: on = (t % (7 * FS / 10)) < 35 * FS / 100; break;
    default: return 0;
    }
    double v = sine(&c->tone_phase, 450);
    return on ? 7000 * v : 0;
}

static void far_end(Chan *c)
{
    double x = 0;
    int listening = 0;
    if (c->type == CH_TRUNK) {
        if (c->call == CALL_RINGING && c->rings_max > 0 &&
            now - c->call_since >= (long)c->rings_max * 5 * FS - 4 * FS)
            c->call = CALL_IDLE; /* the caller gave up */
        listening = c->card_offhook;
        if (listening)
            x += exchange_tone(c);
    } else if (c->type == CH_USER) {
        if (c->flash_until && now >= c->flash_until) {
            c->flash_until = 0;
            c->phone_offhook = 1;
        }
        if (!c->phone_offhook && c->onhook_since < 0)
            c->onhook_since = now;
        else if (c->phone_offhook && c->onhook_since >= 0) {
            if (c->hang_detect) {
                if (now - c->onhook_since < FS / 2)
                    c->flash_latched = 1;
                else
                    c->hung_latched = 1;
            }
            c->onhook_since = -1;
        }
        int b = bell(c);
        if (b && !c->bell_was)
            c->bursts++;
        c->bell_was = b;
        listening = c->phone_offhook;
    } else if (c->type == CH_RECORD) {
        listening = 1;
    }
    if (listening) {
        if (c->say.pos < c->say.len)
            x += c->say.data[c->say.pos++];
        x += key_sample(c);
    }
    c->rx_now = c->failed ? 0 : clip16(x);
}

static void card_sample(int i)
{
    Chan *c = &ch[i];
    /* what the card sends to the line: its play, plus the far end of a linked channel */
    double tx = 0;
    if (c->playing && !c->failed) {
        tx += alaw_decode(sysbuf[i][c->play_pos]);
        c->play_pos = (c->play_pos + 1) % sysbuf_len;
        c->played++;
    }
    if (c->linked >= 0)
        tx += ch[c->linked].rx_now;
    int16_t out = clip16(tx);
    pcm_push(&c->heard, &out, 1);
    /* what it records from the line */
    if (c->vr_on && !c->failed) {
        long at = (c->vr_head + c->vr_count) % sysbuf_len;
        c->vr[at] = alaw_encode(c->rx_now);
        if (c->vr_count < sysbuf_len)
            c->vr_count++;
        else {
            c->vr_head = (c->vr_head + 1) % sysbuf_len;
            c->overruns++;
        }
        c->recorded++;
    }
}

/* -- driver and card ---------------------------------------------------------------------- */

EXPORT long LoadDRV(void)
{
    if (load_result != 0)
        return load_result;
    if (n_ch <= 0)
        return -3;
    loaded = 1;
    return 0;
}

EXPORT void FreeDRV(void) { loaded = 0; }

EXPORT WORD CheckValidCh(void) { return loaded ? (WORD)n_ch : 0; }

EXPORT WORD CheckChType(WORD c) { return (loaded && c < n_ch) ? (WORD)ch[c].type : CH_EMPTY; }

EXPORT BOOL IsSupportCallerID(void) { return caller_id_ok; }

EXPORT long EnableCard(WORD used, WORD buflen)
{
    if (!loaded)
        return -1;
    if (used > n_ch || buflen == 0 || buflen % 1024)
        return -2;
    sysbuf_len = buflen;
    for (int i = 0; i < n_ch; i++) {
        sysbuf[i] = calloc((size_t)buflen, 1);
        memset(sysbuf[i], 0xD5, (size_t)buflen); /* A-law silence */
        ch[i].vr = calloc((size_t)buflen, 1);
    }
    enabled = 1;
    return 0;
}

EXPORT void DisableCard(void)
{
    for (int i = 0; i < n_ch; i++) {
        free(sysbuf[i]);
        sysbuf[i] = NULL;
        free(ch[i].vr);
        ch[i].vr = NULL;
        ch[i].playing = ch[i].vr_on = 0;
    }
    enabled = 0;
}

EXPORT void SetPackRate(WORD rate) { (void)rate; /* only 64 kbit/s A-law is simulated */ }

EXPORT void PUSH_PLAY(void)
{
    if (!enabled)
        return;
    for (long s = 0; s < step; s++) {
        for (int i = 0; i < n_ch; i++)
            far_end(&ch[i]);
        for (int i = 0; i < n_ch; i++)
            card_sample(i);
        now++;
    }
}

EXPORT void FeedSigFunc(void) {}

/* -- hook, ring, polarity ------------------------------------------------------------------ */

EXPORT BOOL RingDetect(WORD c)
{
    if (!valid(c))
        return 0;
    Chan *x = &ch[c];
    if (x->type == CH_TRUNK)
        return ring_voltage(x);
    if (x->type == CH_USER)
        return x->ring_mode == RING_NONE && x->phone_offhook; /* unreliable while ringing */
    return 0;
}

EXPORT void OffHook(WORD c)
{
    if (!valid(c) || ch[c].type != CH_TRUNK)
        return;
    Chan *x = &ch[c];
    x->card_offhook = 1;
    if (x->call == CALL_RINGING)
        x->call = CALL_TALK;
    else if (x->call == CALL_IDLE) {
        x->call = CALL_OUT;
        x->tone = TONE_DIAL;
        x->tone_since = now;
    }
}

EXPORT void HangUp(WORD c)
{
    if (!valid(c) || ch[c].type != CH_TRUNK)
        return;
    Chan *x = &ch[c];
    x->card_offhook = 0;
    x->call = CALL_IDLE;
    x->tone = TONE_NONE;
    x->say.pos = x->say.len;
    x->keys_n = 0;
}

EXPORT BOOL CheckPolarity(WORD c) { return valid(c) ? ch[c].polarity : 0; }

EXPORT void FeedRing(WORD c)
{
    if (valid(c) && ch[c].type == CH_USER)
        ch[c].ring_mode = RING_STEADY;
}

EXPORT void FeedRealRing(WORD c)
{
    if (valid(c) && ch[c].type == CH_USER)
        ch[c].ring_mode = RING_CADENCE;
}

EXPORT void FeedPower(WORD c)
{
    if (valid(c) && ch[c].type == CH_USER)
        ch[c].ring_mode = RING_NONE;
}

EXPORT BOOL OffHookDetect(WORD c) { return valid(c) && ch[c].type == CH_USER && ch[c].phone_offhook; }

EXPORT void StartHangUpDetect(WORD c)
{
    if (!valid(c))
        return;
    ch[c].hang_detect = 1;
    ch[c].flash_latched = ch[c].hung_latched = 0;
}

EXPORT WORD HangUpDetect(WORD c)
{
    if (!valid(c) || !ch[c].hang_detect)
        return 0;
    Chan *x = &ch[c];
    if (x->flash_latched) {
        x->flash_latched = 0;
        return 3; /* HANG_UP_FLAG_PRESS_R: on hook for less than 0.5 s */
    }
    if (x->hung_latched) {
        x->hung_latched = 0;
        return 1;
    }
    if (x->onhook_since >= 0)
        return now - x->onhook_since >= FS / 2 ? 1 : 2; /* HANG_UP_FLAG_TRUE / _START */
    return 0;
}

EXPORT BOOL DRec_OffHookDetect(WORD c)
{
    return valid(c) && ch[c].type == CH_RECORD && ch[c].phone_offhook; /* the tapped line */
}

/* -- links --------------------------------------------------------------------------------- */

EXPORT long SetLink(WORD a, WORD b)
{
    if (a >= n_ch)
        return -1;
    if (b >= n_ch)
        return -2;
    if (ch[a].playing)
        return -4;
    if (ch[b].playing)
        return -5;
    ch[a].linked = b;
    ch[b].linked = a;
    return 0;
}

EXPORT long ClearLink(WORD a, WORD b)
{
    if (a >= n_ch)
        return -1;
    if (b >= n_ch)
        return -2;
    if (ch[a].linked == b)
        ch[a].linked = -1;
    if (ch[b].linked == a)
        ch[b].linked = -1;
    return 0;
}

/* -- DTMF ---------------------------------------------------------------------------------- */

EXPORT void InitDtmfBuf(WORD c)
{
    if (valid(c))
        ch[c].dtmf_n = 0;
}

EXPORT short GetDtmfCode(WORD c)
{
    if (!valid(c) || !ch[c].dtmf_n)
        return -1;
    char k = ch[c].dtmf[0];
    memmove(ch[c].dtmf, ch[c].dtmf + 1, (size_t)--ch[c].dtmf_n);
    switch (k) {
    case '0': return 10;
    case '*': return 11;
    case '#': return 12;
    case 'A': return 13;
    case 'B': return 14;
    case 'C': return 15;
    case 'D': return 0; /* the vendor's table gives D as 0 (its header names 16) */
    default: return (short)(k - '0');
    }
}

EXPORT BOOL DtmfHit(WORD c) { return valid(c) && ch[c].dtmf_n > 0; }

/* -- caller ID: FSK between the first and the second ring ----------------------------------- */

static int cid_step(Chan *c)
{
    if (!c->cid_present)
        return 0;
    long t = now - (c->call_since + FS); /* after the first ring */
    long done = c->call_since + 2 * FS;
    if (c->cid_reset > done)
        return 0; /* the buffer was cleared after the message */
    if (t < FS / 2)
        return 0;
    if (t < FS / 2 + FS / 5)
        return 1; /* ID_STEP_HEAD */
    if (t < FS)
        return 2; /* ID_STEP_ID */
    return c->cid_bad ? 4 : 3; /* ID_STEP_FAIL / ID_STEP_OK */
}

EXPORT void ResetCallerIDBuffer(WORD c)
{
    if (valid(c))
        ch[c].cid_reset = now;
}

EXPORT WORD GetCallerIDStr(WORD c, char *out)
{
    if (!valid(c))
        return 0;
    int s = cid_step(&ch[c]);
    out[0] = 0;
    if (s >= 3) {
        strcpy(out, ch[c].cid_when);
        strcat(out, ch[c].cid_number);
    }
    return (WORD)s;
}

#ifndef DJSIM_NO_CALLERID_EX /* drivers before 2004 lack it */
EXPORT WORD GetCallerIDStrEx(WORD c, char *when, char *number, char *user)
{
    if (!valid(c))
        return 0;
    int s = cid_step(&ch[c]);
    when[0] = number[0] = user[0] = 0;
    if (s >= 3) {
        strcpy(when, ch[c].cid_when);
        strcpy(number, ch[c].cid_number);
        strcpy(user, ch[c].cid_name);
    }
    return (WORD)s;
}
#endif

/* -- audio to and from memory --------------------------------------------------------------- */

EXPORT void SYS_StartLoopPlay(WORD c, DWORD len, DWORD start)
{
    if (!valid(c) || (long)len != sysbuf_len)
        return; /* only the whole system buffer is simulated */
    ch[c].playing = 1;
    ch[c].play_pos = start % sysbuf_len;
    ch[c].played = 0;
}

EXPORT void SYS_MoveBufToSys(WORD c, char *p, DWORD len, DWORD start)
{
    if (!valid(c) || (long)start + (long)len > sysbuf_len)
        return;
    memcpy(sysbuf[c] + start, p, len);
}

EXPORT void StopPlay(WORD c)
{
    if (valid(c))
        ch[c].playing = 0;
}

EXPORT BOOL CheckPlayEnd(WORD c) { return !valid(c) || !ch[c].playing; }

EXPORT void ReadStatus(WORD c, TPD_RPB *r)
{
    memset(r, 0, sizeof *r);
    if (!valid(c))
        return;
    r->PlayFlag = (WORD)ch[c].playing;
    r->RecordFlag = (WORD)ch[c].vr_on;
    r->PlayCount = (WORD)(ch[c].played & 0xFFFF);
    r->RecordCount = (WORD)(ch[c].recorded & 0xFFFF);
    r->DtmfCount = (WORD)ch[c].dtmf_n;
}

EXPORT int VR_SetRefreshSize(WORD size)
{
    if (!enabled)
        return -1;
    if (!vr_ok)
        return -5;
    if (size == 0 || size % 512)
        return -2;
    if (size > sysbuf_len / 2)
        return -3;
    if (sysbuf_len % size)
        return -4;
    refresh = size;
    return 0;
}

EXPORT void VR_StartRecord(WORD c)
{
    if (!valid(c) || !refresh)
        return;
    ch[c].vr_on = 1;
    ch[c].vr_head = ch[c].vr_count = 0;
}

EXPORT void VR_StopRecord(WORD c)
{
    if (valid(c))
        ch[c].vr_on = 0;
}

EXPORT int VR_GetRecordData(WORD c, char *out)
{
    if (!valid(c))
        return 0;
    Chan *x = &ch[c];
    if (x->failed)
        return -1;
    if (!x->vr_on || x->vr_count < refresh)
        return 0;
    for (long k = 0; k < refresh; k++)
        out[k] = (char)x->vr[(x->vr_head + k) % sysbuf_len];
    x->vr_head = (x->vr_head + refresh) % sysbuf_len;
    x->vr_count -= refresh;
    return (int)refresh;
}

/* -- signal checks and NewSig ------------------------------------------------------------------ */

EXPORT void StartSigCheck(WORD c)
{
    if (valid(c)) {
        ch[c].sig_on = 1;
        ch[c].sig_reset = now;
    }
}

EXPORT void StopSigCheck(WORD c)
{
    if (valid(c))
        ch[c].sig_on = 0;
}

EXPORT int Sig_Init(int debug)
{
    (void)debug;
    return enabled ? 0 : -1;
}

EXPORT int Sig_CheckBusy(WORD c)
{
    if (!valid(c) || !ch[c].sig_on || ch[c].tone != TONE_BUSY)
        return 0;
    long since = ch[c].tone_since > ch[c].sig_reset ? ch[c].tone_since : ch[c].sig_reset;
    return now - since >= 2 * 7 * FS / 10; /* two whole busy cadences */
}

EXPORT void Sig_ResetCheck(WORD c)
{
    if (valid(c))
        ch[c].sig_reset = now;
}

/* -- test control ------------------------------------------------------------------------------ */

/* A card with `n` channels of the given CHTYPE_* kinds; everything else forgotten. */
EXPORT void DJSim_Reset(int n, const int *types, int caller_id, int vr)
{
    for (int i = 0; i < MAX_CH; i++) {
        pcm_clear(&ch[i].say);
        pcm_clear(&ch[i].heard);
        free(ch[i].vr);
        free(sysbuf[i]);
        sysbuf[i] = NULL;
        memset(&ch[i], 0, sizeof ch[i]);
        ch[i].linked = -1;
        ch[i].onhook_since = -1;
        ch[i].cid_reset = -1;
    }
    n_ch = n < MAX_CH ? n : MAX_CH;
    for (int i = 0; i < n_ch; i++)
        ch[i].type = types[i];
    loaded = enabled = 0;
    caller_id_ok = caller_id;
    vr_ok = vr;
    load_result = 0;
    now = 0;
    step = 160;
    refresh = sysbuf_len = 0;
}

EXPORT void DJSim_SetLoadResult(long code) { load_result = code; }
EXPORT void DJSim_SetStep(long samples) { step = samples; }
EXPORT long DJSim_Now(void) { return now; }

/* The exchange rings trunk `c` (caller ID: when "MMDDHHMM", number, name; "" for none);
   the caller gives up after `rings` rings (0: never). */
EXPORT void DJSim_Ring(int c, const char *when, const char *number, const char *name, int rings,
                       int bad_checksum)
{
    Chan *x = &ch[c];
    x->call = CALL_RINGING;
    x->call_since = now;
    x->rings_max = rings;
    x->cid_present = number[0] != 0;
    strncpy(x->cid_when, when, sizeof x->cid_when - 1);
    strncpy(x->cid_number, number, sizeof x->cid_number - 1);
    strncpy(x->cid_name, name, sizeof x->cid_name - 1);
    x->cid_bad = bad_checksum;
}

/* The caller (or callee) on trunk `c` hangs up: the exchange sends busy tone. */
EXPORT void DJSim_FarHangUp(int c)
{
    Chan *x = &ch[c];
    if (x->call == CALL_RINGING) {
        x->call = CALL_IDLE;
        return;
    }
    x->call = CALL_CLEARED;
    x->tone = TONE_BUSY;
    x->tone_since = now;
    x->say.pos = x->say.len;
    x->keys_n = 0;
}

/* An outbound call: the exchange sends ringback, then the callee answers. */
EXPORT void DJSim_Ringback(int c)
{
    ch[c].tone = TONE_RINGBACK;
    ch[c].tone_since = now;
}

EXPORT void DJSim_Answer(int c, int reverse)
{
    ch[c].tone = TONE_NONE;
    ch[c].call = CALL_TALK;
    if (reverse)
        ch[c].polarity ^= 1;
}

EXPORT void DJSim_Say(int c, const int16_t *pcm, long n) { pcm_push(&ch[c].say, pcm, n); }

EXPORT void DJSim_Press(int c, const char *digits)
{
    Chan *x = &ch[c];
    for (const char *d = digits; *d && x->keys_n < 127; d++)
        if (strchr(KEYS, *d)) {
            if (!x->keys_n)
                x->key_at = now;
            x->keys[x->keys_n++] = *d;
        }
}

EXPORT void DJSim_Lift(int c) { ch[c].phone_offhook = 1; }
EXPORT void DJSim_Replace(int c) { ch[c].phone_offhook = 0; }

EXPORT void DJSim_Flash(int c, int ms)
{
    ch[c].phone_offhook = 0;
    ch[c].flash_until = now + (long)ms * FS / 1000;
}

EXPORT int DJSim_Ringing(int c) { return bell(&ch[c]); }
EXPORT int DJSim_RingBursts(int c) { return ch[c].bursts; }
EXPORT int DJSim_CardOffHook(int c) { return ch[c].card_offhook; }
EXPORT int DJSim_Linked(int c) { return ch[c].linked; }
EXPORT int DJSim_Playing(int c) { return ch[c].playing; }
EXPORT long DJSim_Overruns(int c) { return ch[c].overruns; }
EXPORT void DJSim_Reverse(int c) { ch[c].polarity ^= 1; }
EXPORT void DJSim_Fail(int c) { ch[c].failed = 1; }
EXPORT long DJSim_HeardCount(int c) { return ch[c].heard.len; }

/* Copy what the far end of `c` heard, samples [start, start + n). */
EXPORT long DJSim_Heard(int c, int16_t *out, long start, long n)
{
    Pcm *h = &ch[c].heard;
    if (start >= h->len)
        return 0;
    if (start + n > h->len)
        n = h->len - start;
    memcpy(out, h->data + start, (size_t)n * sizeof(int16_t));
    return n;
}
