"""SOAP envelopes as Exchange writes and reads them: namespaces, request parsing, response and fault
serialisation, and the `ServerVersionInfo` header every response carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MESSAGES_NS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TYPES_NS = "http://schemas.microsoft.com/exchange/services/2006/types"
ERRORS_NS = "http://schemas.microsoft.com/exchange/services/2006/errors"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

NSMAP = {"m": MESSAGES_NS, "t": TYPES_NS}

# Exchange 2016 CU23: the build exchangelib maps to API version Exchange2016. Like real Exchange 2016 the
# header's Version attribute is an internal name ("V2017_07_11"), which clients replace by what they asked for.
SERVER_BUILD = (15, 1, 2507, 6)
SERVER_VERSION_NAME = "V2017_07_11"

# The values of t:ExchangeVersionType a request may name in RequestServerVersion.
KNOWN_REQUEST_VERSIONS = frozenset({
    "Exchange2007", "Exchange2007_SP1", "Exchange2009", "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2",
    "Exchange2012", "Exchange2013", "Exchange2013_SP1", "Exchange2015", "Exchange2016",
    "V2015_10_05", "V2016_01_06", "V2016_04_13", "V2016_07_13", "V2016_10_10",
})
# Without RequestServerVersion, Exchange treats a request as Exchange2007's.
DEFAULT_REQUEST_VERSION = "Exchange2007"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=False)


def m(tag: str) -> str:
    return f"{{{MESSAGES_NS}}}{tag}"


def t(tag: str) -> str:
    return f"{{{TYPES_NS}}}{tag}"


class SoapFault(Exception):
    """An error Exchange reports as a SOAP fault with HTTP 500 rather than as a response message."""

    def __init__(self, response_code: str, message: str, *, fault_code: str | None = None,
                 message_xml: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.response_code = response_code
        self.message = message
        self.fault_code = fault_code or f"a:{response_code}"
        self.message_xml = message_xml or {}


class OperationError(Exception):
    """An error that ends up in a ResponseMessage with ResponseClass="Error" for one element of a request."""

    def __init__(self, response_code: str, message: str) -> None:
        super().__init__(message)
        self.response_code = response_code
        self.message = message


@dataclass(frozen=True)
class SoapRequest:
    operation: str  # local name of the element inside soap:Body, e.g. "GetFolder"
    body: Any  # that element
    header: Any  # soap:Header or None
    request_version: str

    def header_child(self, local_name: str) -> Any:
        if self.header is None:
            return None
        return self.header.find(t(local_name))


def parse_request(data: bytes) -> SoapRequest:
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise SoapFault("ErrorSchemaValidation", f"The request failed schema validation: {error}",
                        fault_code="a:ErrorSchemaValidation") from error
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise SoapFault("ErrorSchemaValidation", "The request failed schema validation: the root element is not "
                        "a SOAP 1.1 Envelope.")
    header = root.find(f"{{{SOAP_NS}}}Header")
    body = root.find(f"{{{SOAP_NS}}}Body")
    operation = body[0] if body is not None and len(body) else None
    if operation is None or not isinstance(operation.tag, str):
        raise SoapFault("ErrorSchemaValidation", "The request failed schema validation: the SOAP Body is empty.")
    request_version = DEFAULT_REQUEST_VERSION
    if header is not None:
        version_element = header.find(t("RequestServerVersion"))
        if version_element is not None:
            request_version = version_element.get("Version", "")
            if request_version not in KNOWN_REQUEST_VERSIONS:
                # Exchange's wording; exchangelib then tries its next older version, as it should here.
                raise SoapFault("ErrorInvalidServerVersion", "The specified server version is invalid.")
    qname = etree.QName(operation)
    if qname.namespace != MESSAGES_NS:
        raise SoapFault("ErrorSchemaValidation", schema_violation_text(operation))
    return SoapRequest(qname.localname, operation, header, request_version)


def schema_violation_text(element: Any) -> str:
    qname = etree.QName(element)
    return (f"The request failed schema validation: The element 'Body' in namespace '{SOAP_NS}' has invalid child "
            f"element '{qname.localname}' in namespace '{qname.namespace}'.")


def _envelope_with_header() -> tuple[Any, Any]:
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
    header = etree.SubElement(envelope, f"{{{SOAP_NS}}}Header")
    major, minor, major_build, minor_build = SERVER_BUILD
    etree.SubElement(
        header, t("ServerVersionInfo"), nsmap={"h": TYPES_NS},
        MajorVersion=str(major), MinorVersion=str(minor), MajorBuildNumber=str(major_build),
        MinorBuildNumber=str(minor_build), Version=SERVER_VERSION_NAME,
    )
    body = etree.SubElement(envelope, f"{{{SOAP_NS}}}Body", nsmap={"xsi": XSI_NS})
    return envelope, body


def serialise(envelope: Any) -> bytes:
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def response_envelope(response_element: Any) -> bytes:
    envelope, body = _envelope_with_header()
    body.append(response_element)
    return serialise(envelope)


def fault_envelope(fault: SoapFault) -> bytes:
    envelope, body = _envelope_with_header()
    fault_element = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    code = etree.SubElement(fault_element, "faultcode", nsmap={"a": TYPES_NS})
    code.text = fault.fault_code
    string = etree.SubElement(fault_element, "faultstring")
    string.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    string.text = fault.message
    detail = etree.SubElement(fault_element, "detail")
    response_code = etree.SubElement(detail, f"{{{ERRORS_NS}}}ResponseCode", nsmap={"e": ERRORS_NS})
    response_code.text = fault.response_code
    message = etree.SubElement(detail, f"{{{ERRORS_NS}}}Message", nsmap={"e": ERRORS_NS})
    message.text = fault.message
    if fault.message_xml:
        message_xml = etree.SubElement(detail, t("MessageXml"), nsmap={"t": TYPES_NS})
        for name, value in fault.message_xml.items():
            etree.SubElement(message_xml, t("Value"), Name=name).text = value
    return serialise(envelope)


def new_response(operation: str) -> tuple[Any, Any]:
    """The `m:<Operation>Response` element and its `m:ResponseMessages` container."""
    response = etree.Element(m(f"{operation}Response"), nsmap=NSMAP)
    messages = etree.SubElement(response, m("ResponseMessages"))
    return response, messages


def success_message(messages: Any, operation: str) -> Any:
    message = etree.SubElement(messages, m(f"{operation}ResponseMessage"), ResponseClass="Success")
    etree.SubElement(message, m("ResponseCode")).text = "NoError"
    return message


def error_message(messages: Any, operation: str, error: OperationError) -> Any:
    message = etree.SubElement(messages, m(f"{operation}ResponseMessage"), ResponseClass="Error")
    etree.SubElement(message, m("MessageText")).text = error.message
    etree.SubElement(message, m("ResponseCode")).text = error.response_code
    etree.SubElement(message, m("DescriptiveLinkKey")).text = "0"
    return message


def text_of(element: Any, path: str, default: str | None = None) -> str | None:
    if element is None:
        return default
    found = element.find(path, namespaces=NSMAP)
    if found is None:
        return default
    return str(found.text or "")


def bool_text(value: bool) -> str:
    return "true" if value else "false"


def parse_bool(text: str | None, default: bool = False) -> bool:
    if text is None:
        return default
    return text.strip().lower() in ("true", "1")
