using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Mage.Inference.Numpy;

/// <summary>Parses and formats the Python dict literal of an NPY header.</summary>
internal static class NpyHeader
{
    public static string Format(NpyDType dtype, ReadOnlySpan<int> shape)
    {
        var dims = new StringBuilder();
        foreach (var dimension in shape)
        {
            dims.Append(dimension.ToString(CultureInfo.InvariantCulture)).Append(", ");
        }

        // Python tuple syntax: "()" for a scalar, "(5,)" for one dimension, "(2, 3)" otherwise.
        var tuple = shape.Length switch
        {
            0 => "()",
            1 => $"({dims.ToString(0, dims.Length - 1).TrimEnd()})",
            _ => $"({dims.ToString(0, dims.Length - 2)})",
        };
        return $"{{'descr': '{dtype.Descr()}', 'fortran_order': False, 'shape': {tuple}, }}";
    }

    public static (NpyDType DType, bool FortranOrder, ImmutableArray<int> Shape) Parse(string header)
    {
        var parser = new Parser(header);
        NpyDType? dtype = null;
        bool? fortranOrder = null;
        ImmutableArray<int>? shape = null;

        parser.Expect('{');
        while (!parser.TryConsume('}'))
        {
            var key = parser.ReadString();
            parser.Expect(':');
            switch (key)
            {
                case "descr":
                    dtype = NpyDTypes.Parse(parser.ReadString());
                    break;
                case "fortran_order":
                    fortranOrder = parser.ReadBool();
                    break;
                case "shape":
                    shape = parser.ReadShape();
                    break;
                default:
                    throw parser.Error($"unexpected key '{key}'; an NPY header has exactly 'descr', 'fortran_order' and 'shape'");
            }

            if (!parser.TryConsume(','))
            {
                parser.Expect('}');
                break;
            }
        }

        parser.ExpectEnd();
        if (dtype is null || fortranOrder is null || shape is null)
        {
            var missing = new[] { dtype is null ? "descr" : null, fortranOrder is null ? "fortran_order" : null, shape is null ? "shape" : null };
            throw parser.Error($"missing key(s) {string.Join(", ", missing.Where(m => m is not null))}");
        }

        return (dtype.Value, fortranOrder.Value, shape.Value);
    }

    private sealed class Parser(string text)
    {
        private int position;

        public NpyFormatException Error(string problem) =>
            new($"NPY header is malformed ({problem}) at character {position}: {Quote(text)}");

        public void Expect(char c)
        {
            if (!TryConsume(c))
            {
                throw Error($"expected '{c}'");
            }
        }

        public bool TryConsume(char c)
        {
            SkipWhitespace();
            if (position < text.Length && text[position] == c)
            {
                position++;
                return true;
            }

            return false;
        }

        public void ExpectEnd()
        {
            SkipWhitespace();
            if (position != text.Length)
            {
                throw Error("unexpected text after the closing brace");
            }
        }

        public string ReadString()
        {
            SkipWhitespace();
            if (position >= text.Length || text[position] is not ('\'' or '"'))
            {
                throw Error("expected a quoted string");
            }

            var quote = text[position];
            var end = text.IndexOf(quote, position + 1);
            if (end < 0)
            {
                throw Error("unterminated string");
            }

            var value = text[(position + 1)..end];
            position = end + 1;
            return value;
        }

        public bool ReadBool()
        {
            SkipWhitespace();
            if (Matches("True"))
            {
                return true;
            }

            if (Matches("False"))
            {
                return false;
            }

            throw Error("expected True or False");
        }

        public ImmutableArray<int> ReadShape()
        {
            Expect('(');
            var dims = ImmutableArray.CreateBuilder<int>();
            while (!TryConsume(')'))
            {
                SkipWhitespace();
                var start = position;
                while (position < text.Length && char.IsAsciiDigit(text[position]))
                {
                    position++;
                }

                if (position == start)
                {
                    throw Error("expected a non-negative integer dimension");
                }

                if (!int.TryParse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture, out var dim))
                {
                    throw Error($"dimension {text[start..position]} is larger than {int.MaxValue}");
                }

                // Python 2 numpy wrote longs as "3L".
                if (position < text.Length && text[position] == 'L')
                {
                    position++;
                }

                dims.Add(dim);
                if (!TryConsume(','))
                {
                    Expect(')');
                    break;
                }
            }

            return dims.ToImmutable();
        }

        private bool Matches(string word)
        {
            if (string.CompareOrdinal(text, position, word, 0, word.Length) == 0)
            {
                position += word.Length;
                return true;
            }

            return false;
        }

        private void SkipWhitespace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        private static string Quote(string value) =>
            value.Length <= 200 ? $"\"{value.TrimEnd()}\"" : $"\"{value[..200]}...\"";
    }
}
