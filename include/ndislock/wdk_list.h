/*
 * ndislock/wdk_list.h: the kernel's intrusive lists, LIST_ENTRY (doubly linked, circular, with a
 * head) and SINGLE_LIST_ENTRY (singly linked, NULL-terminated), with the WDK's operations and its
 * corruption check. Clean C11 and C++. Included by ndislock/wdk.h; usable alone.
 *
 * None of these take a lock: the caller serializes each list (a spin lock, or the NdisInterlocked/
 * ExInterlocked forms in ndislock/wdk_interlocked.h). Every operation may run at any IRQL and in
 * an ISR (no call into the library unless the list is corrupt).
 *
 * The corruption check is the one current WDK headers compile in (FatalListEntryError): before
 * linking or unlinking, each neighbour's back link must point where the forward link came from
 * (Flink->Blink == Entry, Blink->Flink == Entry). A list whose links disagree, or hold NULL (a
 * zeroed LIST_ENTRY never initialized), is never followed: it is rule ListCorrupted at the
 * operation's file:line and the process ends, as Windows' fast fail (bug check 0x139
 * KERNEL_SECURITY_CHECK_FAILURE, type 3 FAST_FAIL_CORRUPT_LIST_ENTRY) does. Pages:
 * wdm/nf-wdm-initializelisthead, wdm/nf-wdm-insertheadlist, wdm/nf-wdm-inserttaillist,
 * wdm/nf-wdm-removeheadlist, wdm/nf-wdm-removetaillist, wdm/nf-wdm-removeentrylist,
 * wdm/nf-wdm-appendtaillist, wdm/nf-wdm-islistempty, wdm/nf-wdm-pushentrylist,
 * wdm/nf-wdm-popentrylist, ndis/nf-ndis-ndisinitializelisthead.
 *
 * The operations are macros passing the caller's location (for the report) to static inline
 * functions; with NDISLOCK_NO_SITE_MACROS they are static inline functions of the WDK's names,
 * each with its contract beside it (at the end of this header).
 */
#ifndef NDISLOCK_WDK_LIST_H
#define NDISLOCK_WDK_LIST_H

#include "ndislock/export.h"
#include "ndislock/wdk_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reports ListCorrupted (Operation on Entry, what disagreed in Detail) at File:Line and ends the
 * process. Any IRQL; async-signal-safe. */
NDISLOCK_API __attribute__((noreturn)) void ndislock_list_corrupted(const char *Operation, const void *Entry,
                                                                    const char *Detail, const char *File, int Line,
                                                                    const char *Function);

#define NDISLOCK_LIST_SITE_PARAMS const char *ndislock_file, int ndislock_line, const char *ndislock_function
#define NDISLOCK_LIST_FAIL(op, entry, detail)                                                                          \
    ndislock_list_corrupted((op), (entry), (detail), ndislock_file, ndislock_line, ndislock_function)

/* The check before unlinking or linking next to Entry: both neighbours exist and point back. */
static inline void ndislock_list_check(const char *op, PLIST_ENTRY Entry, NDISLOCK_LIST_SITE_PARAMS) {
    if (Entry->Flink == NULL || Entry->Blink == NULL)
        NDISLOCK_LIST_FAIL(op, Entry, "a link is NULL (the LIST_ENTRY was never initialized)");
    if (Entry->Flink->Blink != Entry) NDISLOCK_LIST_FAIL(op, Entry, "Entry->Flink->Blink != Entry");
    if (Entry->Blink->Flink != Entry) NDISLOCK_LIST_FAIL(op, Entry, "Entry->Blink->Flink != Entry");
}

/* InitializeListHead: an empty list (both links point at the head). */
static inline void ndislock_InitializeListHead(PLIST_ENTRY ListHead) { ListHead->Flink = ListHead->Blink = ListHead; }

/* IsListEmpty: TRUE if the list has no entry. */
static inline BOOLEAN ndislock_IsListEmpty(const LIST_ENTRY *ListHead) {
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

/* RemoveEntryList: unlinks Entry; TRUE if the list is empty afterwards. */
static inline BOOLEAN ndislock_RemoveEntryList(PLIST_ENTRY Entry, NDISLOCK_LIST_SITE_PARAMS) {
    ndislock_list_check("RemoveEntryList", Entry, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY Flink = Entry->Flink, Blink = Entry->Blink;
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return (BOOLEAN)(Flink == Blink);
}

/* RemoveHeadList: unlinks and returns the first entry; on an empty list returns ListHead itself
 * (callers test IsListEmpty first). */
static inline PLIST_ENTRY ndislock_RemoveHeadList(PLIST_ENTRY ListHead, NDISLOCK_LIST_SITE_PARAMS) {
    ndislock_list_check("RemoveHeadList", ListHead, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY Entry = ListHead->Flink;
    ndislock_list_check("RemoveHeadList", Entry, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY Next = Entry->Flink;
    ListHead->Flink = Next;
    Next->Blink = ListHead;
    return Entry;
}

/* RemoveTailList: unlinks and returns the last entry (ListHead itself on an empty list). */
static inline PLIST_ENTRY ndislock_RemoveTailList(PLIST_ENTRY ListHead, NDISLOCK_LIST_SITE_PARAMS) {
    ndislock_list_check("RemoveTailList", ListHead, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY Entry = ListHead->Blink;
    ndislock_list_check("RemoveTailList", Entry, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY Prev = Entry->Blink;
    ListHead->Blink = Prev;
    Prev->Flink = ListHead;
    return Entry;
}

/* InsertHeadList: links Entry first. */
static inline void ndislock_InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry, NDISLOCK_LIST_SITE_PARAMS) {
    ndislock_list_check("InsertHeadList", ListHead, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY Next = ListHead->Flink;
    Entry->Flink = Next;
    Entry->Blink = ListHead;
    Next->Blink = Entry;
    ListHead->Flink = Entry;
}

/* InsertTailList: links Entry last. */
static inline void ndislock_InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry, NDISLOCK_LIST_SITE_PARAMS) {
    ndislock_list_check("InsertTailList", ListHead, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY Prev = ListHead->Blink;
    Entry->Flink = ListHead;
    Entry->Blink = Prev;
    Prev->Flink = Entry;
    ListHead->Blink = Entry;
}

/* AppendTailList: appends the headless ring that starts at ListToAppend after the last entry. */
static inline void ndislock_AppendTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListToAppend, NDISLOCK_LIST_SITE_PARAMS) {
    ndislock_list_check("AppendTailList", ListHead, ndislock_file, ndislock_line, ndislock_function);
    ndislock_list_check("AppendTailList", ListToAppend, ndislock_file, ndislock_line, ndislock_function);
    PLIST_ENTRY ListEnd = ListHead->Blink;
    ListHead->Blink->Flink = ListToAppend;
    ListHead->Blink = ListToAppend->Blink;
    ListToAppend->Blink->Flink = ListHead;
    ListToAppend->Blink = ListEnd;
}

/* PushEntryList: links Entry first in a singly linked list. */
static inline void ndislock_PushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY Entry) {
    Entry->Next = ListHead->Next;
    ListHead->Next = Entry;
}

/* PopEntryList: unlinks and returns the first entry, or NULL if the list is empty. */
static inline PSINGLE_LIST_ENTRY ndislock_PopEntryList(PSINGLE_LIST_ENTRY ListHead) {
    PSINGLE_LIST_ENTRY First = ListHead->Next;
    if (First != NULL) ListHead->Next = First->Next;
    return First;
}

#define NDISLOCK_LIST_HERE __FILE__, __LINE__, __func__

#ifndef NDISLOCK_NO_SITE_MACROS
#define InitializeListHead(H) ndislock_InitializeListHead(H)
#define NdisInitializeListHead(H) ndislock_InitializeListHead(H)
#define IsListEmpty(H) ndislock_IsListEmpty(H)
#define RemoveEntryList(E) ndislock_RemoveEntryList((E), NDISLOCK_LIST_HERE)
#define RemoveHeadList(H) ndislock_RemoveHeadList((H), NDISLOCK_LIST_HERE)
#define RemoveTailList(H) ndislock_RemoveTailList((H), NDISLOCK_LIST_HERE)
#define InsertHeadList(H, E) ndislock_InsertHeadList((H), (E), NDISLOCK_LIST_HERE)
#define InsertTailList(H, E) ndislock_InsertTailList((H), (E), NDISLOCK_LIST_HERE)
#define AppendTailList(H, L) ndislock_AppendTailList((H), (L), NDISLOCK_LIST_HERE)
#define PushEntryList(H, E) ndislock_PushEntryList((H), (E))
#define PopEntryList(H) ndislock_PopEntryList(H)
#else
/* InitializeListHead: any IRQL. Makes the head H an empty list (both links point at it). Must
 * precede every other use of the head: a zeroed head is ListCorrupted at the first checked
 * operation. Page: wdm/nf-wdm-initializelisthead. */
static inline void InitializeListHead(PLIST_ENTRY H) { ndislock_InitializeListHead(H); }
/* NdisInitializeListHead: any IRQL. NDIS's name for InitializeListHead (the same operation and
 * rules). Page: ndis/nf-ndis-ndisinitializelisthead. */
static inline void NdisInitializeListHead(PLIST_ENTRY H) { ndislock_InitializeListHead(H); }
/* IsListEmpty: any IRQL. TRUE if the list has no entry. Not checked: on a head never initialized
 * the answer is meaningless. Page: wdm/nf-wdm-islistempty. */
static inline BOOLEAN IsListEmpty(const LIST_ENTRY *H) { return ndislock_IsListEmpty(H); }
/* RemoveEntryList: any IRQL. Unlinks E from its list; TRUE if the list is empty afterwards. E's
 * links are left as they were (do not remove it twice). Checked: neighbours that do not point back
 * at E (E already removed, or the list corrupt) are ListCorrupted. Page: wdm/nf-wdm-removeentrylist. */
static inline BOOLEAN RemoveEntryList(PLIST_ENTRY E) { return ndislock_RemoveEntryList(E, NULL, 0, NULL); }
/* RemoveHeadList: any IRQL. Unlinks and returns the first entry; on an empty list returns H
 * itself, so test IsListEmpty first. Checked (ListCorrupted). Page: wdm/nf-wdm-removeheadlist. */
static inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY H) { return ndislock_RemoveHeadList(H, NULL, 0, NULL); }
/* RemoveTailList: any IRQL. Unlinks and returns the last entry; on an empty list returns H
 * itself, so test IsListEmpty first. Checked (ListCorrupted). Page: wdm/nf-wdm-removetaillist. */
static inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY H) { return ndislock_RemoveTailList(H, NULL, 0, NULL); }
/* InsertHeadList: any IRQL. Links E first. E must not be on a list already (linking it twice
 * corrupts both). Checked at the head (ListCorrupted). Page: wdm/nf-wdm-insertheadlist. */
static inline void InsertHeadList(PLIST_ENTRY H, PLIST_ENTRY E) { ndislock_InsertHeadList(H, E, NULL, 0, NULL); }
/* InsertTailList: any IRQL. Links E last. E must not be on a list already (linking it twice
 * corrupts both). Checked at the head (ListCorrupted). Page: wdm/nf-wdm-inserttaillist. */
static inline void InsertTailList(PLIST_ENTRY H, PLIST_ENTRY E) { ndislock_InsertTailList(H, E, NULL, 0, NULL); }
/* AppendTailList: any IRQL. Appends the headless ring of entries that starts at L after the last
 * entry of H (L is an entry, not a list head). Checked at both (ListCorrupted). Page:
 * wdm/nf-wdm-appendtaillist. */
static inline void AppendTailList(PLIST_ENTRY H, PLIST_ENTRY L) { ndislock_AppendTailList(H, L, NULL, 0, NULL); }
/* PushEntryList: any IRQL. Links E first in the singly linked list H. Not checked (a singly
 * linked list has no back links to compare). Page: wdm/nf-wdm-pushentrylist. */
static inline void PushEntryList(PSINGLE_LIST_ENTRY H, PSINGLE_LIST_ENTRY E) { ndislock_PushEntryList(H, E); }
/* PopEntryList: any IRQL. Unlinks and returns the first entry of the singly linked list H, or
 * NULL if it is empty. Not checked. Page: wdm/nf-wdm-popentrylist. */
static inline PSINGLE_LIST_ENTRY PopEntryList(PSINGLE_LIST_ENTRY H) { return ndislock_PopEntryList(H); }
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NDISLOCK_WDK_LIST_H */
