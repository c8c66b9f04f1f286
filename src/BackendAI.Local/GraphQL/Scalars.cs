using System.Globalization;
using GraphQL.Types;
using GraphQLParser.AST;

namespace BackendAI.Local.GraphQL;

/// <summary>The <c>UUID</c> scalar (hyphenated strings).</summary>
internal sealed class UuidGraphType : GuidGraphType
{
    public UuidGraphType() => Name = "UUID";
}

/// <summary>
/// The <c>BigInt</c> scalar: a JSON integer when it fits in 32 bits, a JSON float beyond that (as upstream's graphene).
/// </summary>
internal sealed class BigIntScalar : ScalarGraphType
{
    public BigIntScalar() => Name = "BigInt";

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLIntValue i => long.Parse(i.Value.Span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
        GraphQLNullValue => null,
        _ => ThrowLiteralConversionError(value),
    };

    public override object? ParseValue(object? value) => value switch
    {
        null => null,
        int i => (long)i,
        long l => l,
        double d when d == Math.Floor(d) => (long)d,
        _ => ThrowValueConversionError(value),
    };

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        int i => i,
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        long l => (double)l,
        _ => ThrowSerializationError(value),
    };
}

/// <summary>The <c>DateTime</c> scalar: ISO 8601 with microseconds and offset, e.g. <c>2022-03-15T10:20:30.123456+00:00</c>.</summary>
internal sealed class IsoDateTimeScalar : ScalarGraphType
{
    public IsoDateTimeScalar() => Name = "DateTime";

    public static string Format(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00:00";

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLStringValue s => ParseValue(new string(s.Value.Span)),
        GraphQLNullValue => null,
        _ => ThrowLiteralConversionError(value),
    };

    public override object? ParseValue(object? value) => value switch
    {
        null => null,
        DateTimeOffset t => t,
        string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) => t,
        _ => ThrowValueConversionError(value),
    };

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        DateTimeOffset t => Format(t),
        DateTime d => Format(new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc))),
        _ => ThrowSerializationError(value),
    };
}

/// <summary>The <c>JSONString</c> scalar: JSON text carried as a string (double-encoded on the wire).</summary>
internal sealed class JsonStringScalar : ScalarGraphType
{
    public JsonStringScalar() => Name = "JSONString";

    public override object? ParseLiteral(GraphQLValue value) => value switch
    {
        GraphQLStringValue s => new string(s.Value.Span),
        GraphQLNullValue => null,
        _ => ThrowLiteralConversionError(value),
    };

    public override object? ParseValue(object? value) => value switch
    {
        null => null,
        string s => s,
        _ => ThrowValueConversionError(value),
    };

    public override object? Serialize(object? value) => value switch
    {
        null => null,
        string s => s,
        _ => ThrowSerializationError(value),
    };
}
